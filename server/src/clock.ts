/** Time is injected everywhere a limit, window or schedule is computed, so tests move it instead of sleeping. */
export interface Clock {
	/** Milliseconds since the Unix epoch. */
	now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
