import type { MessagingRepository } from './repository';

const DAY_MS = 86_400_000;

/**
 * Accepted-send counters per account and period, authoritative in memory so that check and reservation
 * happen in one synchronous step (a limit of N lets exactly N through under any concurrency). Loaded
 * lazily from SQLite, written back through the commit queue. One gateway process per database.
 */
export class UsageCounters {
	private readonly counts = new Map<string, number>();

	constructor(private readonly repo: MessagingRepository) {}

	get(accountId: number, period: string): number {
		const key = `${accountId}|${period}`;
		let value = this.counts.get(key);
		if (value === undefined) {
			value = this.repo.usage(accountId, period);
			this.counts.set(key, value);
		}
		return value;
	}

	add(accountId: number, periods: string[], delta: number): void {
		for (const period of periods) {
			this.counts.set(`${accountId}|${period}`, Math.max(0, this.get(accountId, period) + delta));
		}
	}

	/** Forgets periods that ended more than two days (or two months) ago; they are never read again. */
	sweep(now: number): void {
		const oldestDay = new Date(now - 2 * DAY_MS).toISOString().slice(0, 10);
		const oldestMonth = new Date(now - 62 * DAY_MS).toISOString().slice(0, 7);
		for (const key of this.counts.keys()) {
			const period = key.slice(key.indexOf('|') + 1);
			const stale = period.startsWith('d:') ? period.slice(2) < oldestDay : period.slice(2) < oldestMonth;
			if (stale) this.counts.delete(key);
		}
	}
}

/**
 * GCRA state per limiter key. In memory only: it describes the last minutes of traffic, so a restart
 * that forgets it costs at most one extra burst.
 */
export class VelocityState {
	private readonly tats = new Map<string, number>();
	/** Keys left after the last sweep: the next one is due when the map has doubled. */
	private sweptSize = 0;

	get(key: string): number | undefined {
		return this.tats.get(key);
	}

	set(key: string, tat: number): void {
		this.tats.set(key, tat);
	}

	/** Puts a key back as it was (a reservation rolled back): its earlier TAT, or none. */
	restore(key: string, tat: number | undefined): void {
		if (tat === undefined) this.tats.delete(key);
		else this.tats.set(key, tat);
	}

	get size(): number {
		return this.tats.size;
	}

	/** A TAT in the past is the same as no entry: drop it so the map stays the size of recent traffic. */
	sweep(now: number): void {
		for (const [key, tat] of this.tats) if (tat <= now) this.tats.delete(key);
		this.sweptSize = this.tats.size;
	}

	/**
	 * Sweeps once the map holds twice the keys it kept at the last sweep (and at least SWEEP_FLOOR): every new
	 * recipient adds a key, so between hourly sweeps a busy hour would otherwise keep an hour of them. The
	 * cost stays constant per send, spread over the keys added since.
	 */
	sweepIfGrown(now: number): void {
		if (this.tats.size >= Math.max(VelocityState.SWEEP_FLOOR, 2 * this.sweptSize)) this.sweep(now);
	}

	static readonly SWEEP_FLOOR = 10_000;
}

/**
 * How many refused attempts per API key and minute are written to the message log one row each; past it,
 * refusals are still answered but only counted (refused_attempts), so a flood of bad requests cannot
 * fill the disk. docs/api.md, "Sending messages".
 */
export const REFUSALS_LOGGED_PER_MINUTE = 300;

export class RefusalBudget {
	private readonly used = new Map<string, { minute: number; count: number }>();

	/** True while this key may log another refusal in full this minute. */
	take(accountId: number, apiKeyId: number | null, now: number): boolean {
		const key = `${accountId}|${apiKeyId ?? 0}`;
		const minute = Math.floor(now / 60_000);
		const current = this.used.get(key);
		if (!current || current.minute !== minute) {
			this.used.set(key, { minute, count: 1 });
			return true;
		}
		current.count += 1;
		return current.count <= REFUSALS_LOGGED_PER_MINUTE;
	}

	/** Gives a take back (the transaction that logged or counted its refusal rolled back). */
	giveBack(accountId: number, apiKeyId: number | null, now: number): void {
		const current = this.used.get(`${accountId}|${apiKeyId ?? 0}`);
		if (current && current.minute === Math.floor(now / 60_000) && current.count > 0) current.count -= 1;
	}

	sweep(now: number): void {
		const minute = Math.floor(now / 60_000);
		for (const [key, value] of this.used) if (value.minute < minute) this.used.delete(key);
	}
}
