import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import type { Db } from '../db';
import type { EventOutbox } from '../events/outbox';
import type { WebhookService } from '../events/webhooks';
import type { InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import type { Messaging } from '../messaging';
import { genericSmsFormatter } from './generic-sms';
import { IntegrationService } from './integrations';
import { REQUESTS_PER_MINUTE, WebhookRateLimit } from './rate-limit';
import { ThreecxRepository } from './repository';
import { ThreecxService } from './service';

export interface ThreecxDeps {
	db: Db;
	clock: Clock;
	logger: Logger;
	accounts: AccountService;
	instances: InstanceService;
	webhooks: WebhookService;
	outbox: EventOutbox;
	messaging: Messaging;
	lastInboundAt: (instanceId: string, phone: string) => number | undefined;
	/** Hears each request refused by the rate limit (the metrics). */
	onRateLimited?: (integrationId: number) => void;
}

/**
 * The 3CX area wired together: integrations (with their forwarding subscription), the event service,
 * the per-integration rate limit, and the Generic SMS envelope registered as an outbox payload format.
 */
export class Threecx {
	readonly integrations: IntegrationService;
	readonly service: ThreecxService;
	readonly rateLimit: WebhookRateLimit;
	private readonly repo: ThreecxRepository;

	constructor(deps: ThreecxDeps) {
		const repo = new ThreecxRepository(deps.db);
		this.repo = repo;
		// Counted in the database (the CLI reads another process's counts) as well as for /metrics.
		this.rateLimit = new WebhookRateLimit(REQUESTS_PER_MINUTE, (integrationId, now) => {
			repo.countRateLimited(integrationId, now);
			deps.onRateLimited?.(integrationId);
		});
		this.integrations = new IntegrationService(repo, {
			clock: deps.clock,
			accounts: deps.accounts,
			instances: deps.instances,
			webhooks: deps.webhooks,
		});
		this.service = new ThreecxService({
			clock: deps.clock,
			logger: deps.logger,
			repo,
			messaging: deps.messaging,
			lastInboundAt: deps.lastInboundAt,
		});
		deps.outbox.addFormat(
			'generic_sms',
			genericSmsFormatter((id) => this.integrations.find(id)),
		);
	}

	/** Hourly upkeep: idle rate-limit windows, and event log entries older than `retainBefore` (when given). */
	housekeeping(now: number, retainBefore?: number): void {
		this.rateLimit.sweep(now);
		if (retainBefore !== undefined) this.repo.pruneEvents(retainBefore);
	}
}
