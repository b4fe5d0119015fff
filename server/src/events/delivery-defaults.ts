/** Svix's schedule: the delay before each attempt (8 attempts over about 28 hours). */
export const DEFAULT_RETRY_SCHEDULE_MS = [
	0,
	5_000,
	5 * 60_000,
	30 * 60_000,
	2 * 3600_000,
	5 * 3600_000,
	10 * 3600_000,
	10 * 3600_000,
];

/** The delivery worker's settings when nothing else is configured (config's GATEWAY_WEBHOOK_* defaults too). */
export const DEFAULT_DELIVERY = {
	retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
	timeoutMs: 10_000,
	concurrency: 16,
	pollMs: 1000,
	allowPrivate: true,
} as const;
