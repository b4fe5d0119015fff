import { ApiError } from '../http/errors';
import { retryAfterSeconds } from '../messaging/guards';

/** Seed 002: "More than 60 requests per minute per integration." */
export const REQUESTS_PER_MINUTE = 60;
const WINDOW_MS = 60_000;

/**
 * A sliding one-minute window per integration: the times of the last 60 accepted requests. The 61st
 * within any 60 seconds is refused with Retry-After saying when the oldest of them leaves the window.
 * Kept in memory: one gateway process serves an integration (the data folder is locked to one process).
 */
export class WebhookRateLimit {
	private readonly recent = new Map<number, number[]>();

	constructor(private readonly limit = REQUESTS_PER_MINUTE) {}

	/** Counts the request or throws 429 webhook_rate_limited. */
	take(integrationId: number, now: number): void {
		const times = (this.recent.get(integrationId) ?? []).filter((at) => at > now - WINDOW_MS);
		if (times.length >= this.limit) {
			this.recent.set(integrationId, times);
			const retryInMs = times[0] + WINDOW_MS - now;
			throw new ApiError(
				'webhook_rate_limited',
				{
					limit: this.limit,
					window_seconds: WINDOW_MS / 1000,
					retry_after_seconds: Number(retryAfterSeconds(retryInMs)),
				},
				{ 'Retry-After': retryAfterSeconds(retryInMs) },
			);
		}
		times.push(now);
		this.recent.set(integrationId, times);
	}

	/** Drops integrations with no request in the last minute (hourly upkeep). */
	sweep(now: number): void {
		for (const [id, times] of this.recent) if (!times.some((at) => at > now - WINDOW_MS)) this.recent.delete(id);
	}
}
