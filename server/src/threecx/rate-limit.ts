import { SlidingWindow } from '../common/sliding-window';
import { ApiError } from '../http/errors';
import { retryAfterSeconds } from '../messaging/guards';

/**
 * Seed 002: "More than 60 requests per minute per integration." A PBX makes two requests per call (the
 * contact lookup, then the call report), so this is 30 calls a minute (docs/3cx.md).
 */
export const REQUESTS_PER_MINUTE = 60;
const WINDOW_MS = 60_000;

/**
 * A sliding one-minute window per integration: the 61st request within any 60 seconds is refused with
 * Retry-After saying when the oldest of them leaves the window.
 */
export class WebhookRateLimit {
	private readonly window: SlidingWindow<number>;

	/** `onRefused` hears every request refused (counted for `3cx show`, the dashboard and /metrics). */
	constructor(
		private readonly limit = REQUESTS_PER_MINUTE,
		private readonly onRefused: (integrationId: number, now: number) => void = () => {},
	) {
		this.window = new SlidingWindow({ limit, windowMs: WINDOW_MS });
	}

	/** Counts the request or throws 429 webhook_rate_limited. */
	take(integrationId: number, now: number): void {
		const retryInMs = this.window.take(integrationId, now);
		if (retryInMs === 0) return;
		this.onRefused(integrationId, now);
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

	/** Drops integrations with no request in the last minute (hourly upkeep). */
	sweep(now: number): void {
		this.window.sweep(now);
	}
}
