import { randomBytes } from 'node:crypto';

/** A one-time message for the next page: what an action did, or a secret to show once. */
export interface Flash {
	kind: 'ok' | 'error';
	text: string;
	/** A secret (a new API key, a webhook secret) shown once with a copy button, then gone. */
	secret?: string;
}

export interface DashboardSession {
	id: string;
	/** The token every form carries back (CSRF); bound to this session. */
	csrf: string;
	createdAt: number;
	seenAt: number;
	flash?: Flash;
}

/** Signed out after 8 hours without a request, and after 24 hours whatever happens. */
export const IDLE_MS = 8 * 3_600_000;
export const ABSOLUTE_MS = 24 * 3_600_000;
const MAX_SESSIONS = 1_000;

const token = () => randomBytes(32).toString('base64url');

/**
 * The operator's signed-in browsers, kept in memory: one gateway process serves the dashboard (the
 * data folder is locked to one process), and a restart simply asks for the operator token again.
 * Nothing secret is stored in the cookie; it only names a session.
 */
export class DashboardSessions {
	private readonly sessions = new Map<string, DashboardSession>();

	create(now: number): DashboardSession {
		if (this.sessions.size >= MAX_SESSIONS) {
			// The least recently created session goes first (Map keeps insertion order).
			const oldest = this.sessions.keys().next().value;
			if (oldest !== undefined) this.sessions.delete(oldest);
		}
		const session: DashboardSession = { id: token(), csrf: token(), createdAt: now, seenAt: now };
		this.sessions.set(session.id, session);
		return session;
	}

	/**
	 * The live session the cookie names, touched (unless `touch` is false: a page's background polling is
	 * not the operator at work); expired ones are dropped.
	 */
	find(id: string | undefined, now: number, touch = true): DashboardSession | undefined {
		if (!id) return undefined;
		const session = this.sessions.get(id);
		if (!session) return undefined;
		if (now - session.seenAt > IDLE_MS || now - session.createdAt > ABSOLUTE_MS) {
			this.sessions.delete(id);
			return undefined;
		}
		if (touch) session.seenAt = now;
		return session;
	}

	destroy(id: string): void {
		this.sessions.delete(id);
	}

	/** Takes the session's one-time message, if any. */
	takeFlash(session: DashboardSession): Flash | undefined {
		const flash = session.flash;
		session.flash = undefined;
		return flash;
	}
}

/** Failed sign-ins allowed per client address within the window before 429. */
export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_WINDOW_MS = 15 * 60_000;
export const MAX_ADDRESSES = 10_000;

/**
 * Failed sign-ins per client address in a sliding window: the sixth failure within 15 minutes locks
 * that address out until the oldest failure leaves the window. A success does not reset the count, so
 * guessing between successes gains nothing.
 */
export class LoginThrottle {
	private readonly failures = new Map<string, number[]>();

	/** How many addresses are on record (bounded by MAX_ADDRESSES). */
	get size(): number {
		return this.failures.size;
	}

	/** Milliseconds until this address may try again, or 0. */
	retryInMs(address: string, now: number): number {
		const times = this.recent(address, now);
		return times.length >= LOGIN_FAILURES_ALLOWED ? times[0] + LOGIN_WINDOW_MS - now : 0;
	}

	fail(address: string, now: number): void {
		const times = this.recent(address, now);
		times.push(now);
		this.failures.set(address, times);
		if (this.failures.size > MAX_ADDRESSES) this.shrink(now);
	}

	/**
	 * Many addresses guessing: forget those whose failures have all left the window, then, if that is not
	 * enough, the addresses seen least recently, down to 90% of the cap (so the scan is paid once per
	 * thousand new addresses, not on every failure). Memory stays bounded whatever the number of addresses.
	 */
	private shrink(now: number): void {
		for (const [address, times] of this.failures) {
			if (times[times.length - 1] <= now - LOGIN_WINDOW_MS) this.failures.delete(address);
		}
		for (const address of this.failures.keys()) {
			if (this.failures.size <= MAX_ADDRESSES * 0.9) break;
			this.failures.delete(address);
		}
	}

	private recent(address: string, now: number): number[] {
		const times = (this.failures.get(address) ?? []).filter((at) => at > now - LOGIN_WINDOW_MS);
		// Deleted and set again: the map's order is the order addresses were last seen.
		this.failures.delete(address);
		if (times.length > 0) this.failures.set(address, times);
		return times;
	}
}
