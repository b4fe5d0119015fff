/**
 * GCRA (generic cell rate algorithm), after brandur/redis-cell: a limiter is one number per key, the
 * theoretical arrival time (TAT). `rate` sends per `periodMs` with `burst` extra sends allowed at once.
 */
export interface GcraLimit {
	rate: number;
	periodMs: number;
	burst: number;
}

export interface GcraDecision {
	allowed: boolean;
	/** The TAT to store when the send is accepted. */
	newTat: number;
	retryAfterMs: number;
	/**
	 * The sends the limiter still counts before this one: its TAT's lead over now in emission intervals.
	 * A limiter lets `burst + 1` through at once and then one per interval, so a refusal comes once this
	 * reaches `burst + 1`, whatever the per-minute rate.
	 */
	counted: number;
}

export function gcra(storedTat: number | undefined, now: number, limit: GcraLimit): GcraDecision {
	const interval = limit.periodMs / limit.rate;
	const delayTolerance = interval * (limit.burst + 1);
	const tat = Math.max(storedTat ?? now, now);
	const newTat = tat + interval;
	const allowAt = newTat - delayTolerance;
	const counted = Math.ceil((tat - now) / interval);
	if (now < allowAt) return { allowed: false, newTat: tat, retryAfterMs: Math.ceil(allowAt - now), counted };
	return { allowed: true, newTat, retryAfterMs: 0, counted };
}

/** Per-minute rate with a burst of a quarter of a minute's worth (at least one extra send). */
export function perMinute(rate: number): GcraLimit {
	return { rate, periodMs: 60_000, burst: Math.max(1, Math.floor(rate / 4)) };
}

/**
 * A provider's pace: `rate` sends per minute with at most one second's worth at once (at least one extra),
 * so a burst from many callers is spread out instead of reaching WhatsApp together.
 */
export function providerPace(rate: number): GcraLimit {
	return { rate, periodMs: 60_000, burst: Math.max(1, Math.floor(rate / 60)) };
}

/** The TAT that makes `limit` refuse until `until` (a provider said to slow down). */
export function tatRefusingUntil(until: number, limit: GcraLimit): number {
	const interval = limit.periodMs / limit.rate;
	return until + interval * limit.burst;
}
