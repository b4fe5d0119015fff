import { randomBytes } from 'node:crypto';
import { SlidingWindow } from '../common/sliding-window';

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
 * guessing between successes gains nothing. At most MAX_ADDRESSES addresses are on record.
 */
export const loginThrottle = () =>
	new SlidingWindow<string>({ limit: LOGIN_FAILURES_ALLOWED, windowMs: LOGIN_WINDOW_MS, maxKeys: MAX_ADDRESSES });
