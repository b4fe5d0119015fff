export interface SlidingWindowOptions {
	/** Events allowed per key within any window. */
	limit: number;
	windowMs: number;
	/**
	 * Keys kept on record at most: past it, keys whose events have all left the window are forgotten, then
	 * those seen least recently. Leave it out when the keys are few by nature (integrations, not addresses).
	 */
	maxKeys?: number;
}

/**
 * At most `limit` events per key within any `windowMs`, counted exactly: the times of each key's recent
 * events. When the window is full, the wait is until its oldest event leaves it. Kept in memory: one gateway
 * process serves a data folder, and the window describes the last minutes only. Used by the dashboard's
 * sign-in throttle (failures per address) and the 3CX webhook's rate limit (requests per integration).
 */
export class SlidingWindow<Key> {
	private readonly recent = new Map<Key, number[]>();

	constructor(private readonly options: SlidingWindowOptions) {}

	/** How many keys are on record (at most `maxKeys`). */
	get size(): number {
		return this.recent.size;
	}

	/** Milliseconds until `key` may have another event, or 0. */
	waitMs(key: Key, now: number): number {
		const times = this.current(key, now);
		return times.length >= this.options.limit ? times[0] + this.options.windowMs - now : 0;
	}

	/** Records an event of `key`, whether or not the window had room for it. */
	record(key: Key, now: number): void {
		const times = this.current(key, now);
		times.push(now);
		this.recent.set(key, times);
		if (this.options.maxKeys !== undefined && this.recent.size > this.options.maxKeys) this.shrink(now);
	}

	/** Records an event of `key` if the window has room and returns 0; otherwise returns the wait, recording nothing. */
	take(key: Key, now: number): number {
		const wait = this.waitMs(key, now);
		if (wait === 0) this.record(key, now);
		return wait;
	}

	/** Forgets keys whose events have all left the window (hourly upkeep). */
	sweep(now: number): void {
		for (const [key, times] of this.recent) {
			if (times[times.length - 1] <= now - this.options.windowMs) this.recent.delete(key);
		}
	}

	/**
	 * Too many keys: sweep, then forget the keys seen least recently, down to 90% of the cap (so the scan is
	 * paid once per tenth of the cap of new keys, not on every event). Memory stays bounded whatever the
	 * number of keys.
	 */
	private shrink(now: number): void {
		this.sweep(now);
		const keep = (this.options.maxKeys ?? Infinity) * 0.9;
		for (const key of this.recent.keys()) {
			if (this.recent.size <= keep) break;
			this.recent.delete(key);
		}
	}

	/** The key's events still in the window; the key moves to the end of the map (its order is last seen). */
	private current(key: Key, now: number): number[] {
		const times = (this.recent.get(key) ?? []).filter((at) => at > now - this.options.windowMs);
		this.recent.delete(key);
		if (times.length > 0) this.recent.set(key, times);
		return times;
	}
}
