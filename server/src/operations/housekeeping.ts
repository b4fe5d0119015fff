import type { Clock } from '../clock';
import type { InboundService } from '../events/inbound';
import type { WebhookService } from '../events/webhooks';
import type { Logger } from '../logger';
import type { Messaging } from '../messaging';
import type { Threecx } from '../threecx';

const DAY_MS = 86_400_000;
const HOUR_MS = 60 * 60_000;

/** The areas whose history housekeeping trims. */
export interface HousekeepingParts {
	clock: Clock;
	messaging: Pick<Messaging, 'housekeeping'>;
	threecx: Pick<Threecx, 'housekeeping'>;
	webhooks: Pick<WebhookService, 'prune'>;
	inbound: Pick<InboundService, 'prune' | 'expireHeldStatuses'>;
}

/**
 * Hourly upkeep. With `retentionDays` > 0, history older than that goes: message log entries, finished
 * deliveries and their events, inbound messages. Nothing pending or in flight is touched. Status reports
 * held for a send's outcome that never came expire whatever the retention.
 */
export function housekeeping(parts: HousekeepingParts, retentionDays: number): void {
	const retainBefore = retentionDays > 0 ? parts.clock.now() - retentionDays * DAY_MS : undefined;
	parts.messaging.housekeeping(retainBefore);
	parts.threecx.housekeeping(parts.clock.now(), retainBefore);
	parts.inbound.expireHeldStatuses(parts.clock.now());
	if (retainBefore !== undefined) {
		parts.webhooks.prune(retainBefore);
		parts.inbound.prune(retainBefore);
	}
}

/** Runs `run` now and then every hour (the timer never keeps the process alive); a failure is logged. */
export function startHousekeepingTimer(run: () => void, logger: Logger): { stop(): void } {
	const safely = () => {
		try {
			run();
		} catch (error) {
			logger.error({ err: error }, 'housekeeping failed');
		}
	};
	safely();
	const timer = setInterval(safely, HOUR_MS);
	timer.unref();
	return { stop: () => clearInterval(timer) };
}
