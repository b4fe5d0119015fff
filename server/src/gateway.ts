import type Koa from 'koa';
import { verifyAdminToken } from './accounts/operator-token';
import { AccountService } from './accounts/service';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { openDatabase, type Db } from './db';
import { CommitQueue } from './db/commit-queue';
import { DashboardSessions } from './dashboard/sessions';
import { DEFAULT_DELIVERY } from './events/delivery-defaults';
import { DeliveryWorker, type DeliveryOptions } from './events/delivery-worker';
import { InboundService } from './events/inbound';
import { InboundRepository } from './events/inbound-repository';
import { EventOutbox } from './events/outbox';
import { EventsRepository } from './events/repository';
import { WebhookService } from './events/webhooks';
import { gatewayOptionsFromConfig, providerOptionsFromConfig, type GatewayOptions } from './gateway-options';
import { InstanceService } from './instances/service';
import { createLogger, type Logger } from './logger';
import { Messaging } from './messaging';
import { HealthChecks } from './operations/health';
import { housekeeping } from './operations/housekeeping';
import { GatewayMetrics, instrumentProvider, observeDeliveryAttempts } from './operations/metrics';
import { CloudProvider } from './providers/cloud';
import { InstanceConnector } from './providers/connector';
import { DEFAULT_PROVIDER_OPTIONS, type ProviderOptions } from './providers/defaults';
import { EvolutionProvider } from './providers/evolution';
import { ProviderInbound } from './providers/inbound';
import { ProviderRegistry } from './providers/registry';
import { SandboxProvider } from './providers/sandbox';
import { SandboxStatusReports } from './providers/sandbox-statuses';
import { instanceWebhookUrl } from './providers/settings';
import { gatewayApp } from './routes';
import { SuppressionService } from './suppressions/service';
import { Threecx } from './threecx';

/**
 * Everything one running gateway is made of, wired once (the composition root): the HTTP server, the CLI
 * and the tests all build one here. Areas get only the services they need; nothing else builds them.
 */
export class Gateway {
	readonly db: Db;
	readonly clock: Clock;
	readonly logger: Logger;
	readonly sandbox: SandboxProvider;
	readonly evolution: EvolutionProvider;
	readonly cloud: CloudProvider;
	readonly providers: ProviderRegistry;
	readonly connector: InstanceConnector;
	private readonly providerOptions: ProviderOptions;
	readonly accounts: AccountService;
	readonly instances: InstanceService;
	readonly suppressions: SuppressionService;
	readonly outbox: EventOutbox;
	readonly messaging: Messaging;
	readonly inbound: InboundService;
	readonly providerInbound: ProviderInbound;
	readonly webhooks: WebhookService;
	readonly deliveries: DeliveryWorker;
	readonly sandboxStatuses: SandboxStatusReports;
	readonly threecx: Threecx;
	readonly adminToken: string | undefined;
	private readonly trustProxy: boolean;
	readonly metrics: GatewayMetrics;
	readonly health: HealthChecks;
	/** Signed-in dashboard browsers (in memory: a restart asks for the operator token again). */
	readonly dashboardSessions = new DashboardSessions();
	/** The group commit that sends, their outcomes and the providers' status reports share. */
	private readonly writes: CommitQueue;

	constructor(options: GatewayOptions) {
		this.clock = options.clock ?? systemClock;
		this.logger = options.logger ?? createLogger('silent');
		this.adminToken = options.adminToken;
		this.trustProxy = options.trustProxy ?? false;
		this.db = openDatabase(options.databasePath);
		this.writes = new CommitQueue(this.db);
		this.sandbox = options.sandbox ?? new SandboxProvider();
		this.metrics = new GatewayMetrics(this.db, this.clock, { processMetrics: options.processMetrics });
		this.health = new HealthChecks(() => this.accounts.setSetting('health_probe_at', String(this.clock.now())));
		this.providerOptions = { ...DEFAULT_PROVIDER_OPTIONS, ...options.providers };
		const { timeoutMs, publicUrl, cloudGraphUrl } = this.providerOptions;
		this.evolution = new EvolutionProvider({ timeoutMs, publicUrl, clock: this.clock, logger: this.logger });
		this.cloud = new CloudProvider({ timeoutMs, graphUrl: cloudGraphUrl, clock: this.clock });
		this.providers = new ProviderRegistry(
			[this.sandbox, this.evolution, this.cloud].map((provider) => instrumentProvider(provider, this.metrics)),
		);
		this.accounts = new AccountService(this.db, this.clock);
		this.instances = new InstanceService(this.db, this.clock, this.providers.names(), this.providers.parseSettings);
		this.suppressions = new SuppressionService(this.db, this.clock);
		const eventsRepo = new EventsRepository(this.db);
		this.outbox = new EventOutbox(eventsRepo, this.clock);
		this.messaging = new Messaging({
			db: this.db,
			clock: this.clock,
			logger: this.logger,
			writes: this.writes,
			instances: this.instances,
			suppressions: this.suppressions,
			providers: this.providers,
			outbox: this.outbox,
			mediaDestinations: {
				allowPrivate: options.media?.allowPrivate ?? options.delivery?.allowPrivate ?? DEFAULT_DELIVERY.allowPrivate,
				lookup: options.media?.lookup,
			},
			// Status reports that beat a send's outcome wait in the inbound service (built next) until it commits.
			applyHeldStatuses: (instanceId, providerMessageId) =>
				void this.inbound.applyHeldStatuses(instanceId, providerMessageId),
		});
		this.messaging.onRefusalCounted((code) => this.metrics.observeRefusalCounted(code));
		this.inbound = new InboundService({
			clock: this.clock,
			logger: this.logger,
			repo: new InboundRepository(this.db),
			outbox: this.outbox,
			accounts: this.accounts,
			instances: this.instances,
			suppressions: this.suppressions,
			messageLog: this.messaging.log,
			writes: this.writes,
		});
		this.providerInbound = new ProviderInbound(this.providers, this.instances, this.inbound);
		this.connector = new InstanceConnector(this.providers, this.instances, this.inbound);
		this.sandboxStatuses = new SandboxStatusReports(
			this.sandbox,
			(id, reported) => this.inbound.receive(id, reported),
			this.logger,
		);
		const delivery: DeliveryOptions = { ...DEFAULT_DELIVERY, ...options.delivery };
		this.webhooks = new WebhookService(
			eventsRepo,
			this.instances,
			this.clock,
			delivery.allowPrivate,
			(accountId) => this.accounts.get(accountId).webhookLimit.limit,
		);
		observeDeliveryAttempts(eventsRepo, this.metrics);
		this.deliveries = new DeliveryWorker({
			db: this.db,
			repo: eventsRepo,
			clock: this.clock,
			logger: this.logger,
			options: delivery,
		});
		this.outbox.onRecorded((webhookIds) => this.deliveries.notify(webhookIds));
		this.webhooks.onRequeued((webhookId) => this.deliveries.notify([webhookId]));
		this.threecx = new Threecx({
			db: this.db,
			clock: this.clock,
			logger: this.logger,
			accounts: this.accounts,
			instances: this.instances,
			webhooks: this.webhooks,
			outbox: this.outbox,
			messaging: this.messaging,
			lastInboundAt: (instanceId, phone) => this.inbound.lastInboundAt(instanceId, phone),
			onRateLimited: (integrationId) => this.metrics.observeThreecxRateLimited(integrationId),
		});
	}

	static fromConfig(config: Config, logger?: Logger): Gateway {
		return new Gateway(gatewayOptionsFromConfig(config, logger));
	}

	/** What the real providers need from the configuration (the server and the CLI build them alike). */
	static providerOptions(config: Config): ProviderOptions {
		return providerOptionsFromConfig(config);
	}

	/** Where an instance's provider sends its webhooks (Evolution is told at connect; Meta's dashboard is told by the operator). */
	webhookUrl(instance: { id: string; provider: string }): string | undefined {
		return instanceWebhookUrl(this.providerOptions.publicUrl, instance);
	}

	/** Whether a token is the operator's (GATEWAY_ADMIN_TOKEN, or the one generated at first start). */
	readonly isOperator = (token: string | undefined): boolean => verifyAdminToken(this.accounts, this.adminToken, token);

	/** The HTTP application: one router per area, each given only what it uses (routes.ts). */
	createApp(): Koa {
		return gatewayApp(this, { trustProxy: this.trustProxy, publicUrl: this.providerOptions.publicUrl });
	}

	/** Hourly upkeep: what is older than `retentionDays` (0: nothing) goes (operations/housekeeping.ts). */
	housekeeping(retentionDays: number): void {
		housekeeping(this, retentionDays);
	}

	/** Commits whatever the group commit holds now (the server calls it once requests have drained). */
	flushWrites(): void {
		this.writes.flush();
	}

	/** Commits queued writes, then closes the database (the delivery worker must be stopped first). */
	close(): void {
		if (!this.db.open) return;
		this.sandboxStatuses.stop();
		this.evolution.close();
		this.cloud.close();
		this.writes.flush();
		this.db.close();
	}
}
