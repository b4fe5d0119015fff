import type Router from '@koa/router';
import type Koa from 'koa';
import { requireApiKey, requireOperator } from './accounts/auth';
import { verifyAdminToken } from './accounts/operator-token';
import { accountRoutes } from './accounts/routes';
import { AccountService } from './accounts/service';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { openDatabase, type Db } from './db';
import { CommitQueue } from './db/commit-queue';
import { dashboardRoutes } from './dashboard';
import { docsPageRoutes } from './docs/pages';
import { DashboardSessions } from './dashboard/sessions';
import { docsRoutes } from './docs/routes';
import { DEFAULT_DELIVERY } from './events/delivery-defaults';
import { DeliveryWorker, type DeliveryOptions } from './events/delivery-worker';
import { InboundService } from './events/inbound';
import { EventOutbox } from './events/outbox';
import { InboundRepository } from './events/inbound-repository';
import { EventsRepository } from './events/repository';
import { webhookRoutes } from './events/routes';
import { WebhookService } from './events/webhooks';
import { createApp } from './http/app';
import { instanceRoutes } from './instances/routes';
import { InstanceService } from './instances/service';
import { createLogger, type Logger } from './logger';
import { Messaging } from './messaging';
import { messagingRoutes } from './messaging/routes';
import { CloudProvider } from './providers/cloud';
import { InstanceConnector } from './providers/connector';
import { EvolutionProvider } from './providers/evolution';
import { ProviderInbound } from './providers/inbound';
import { operatorInstanceRoutes } from './providers/operator-routes';
import { DEFAULT_PROVIDER_OPTIONS, type ProviderOptions } from './providers/defaults';
import { instanceWebhookUrl } from './providers/settings';
import { ProviderRegistry } from './providers/registry';
import { providerRoutes } from './providers/routes';
import { SandboxProvider } from './providers/sandbox';
import { SandboxStatusReports } from './providers/sandbox-statuses';
import { SuppressionService } from './suppressions/service';
import { Threecx } from './threecx';
import { threecxRoutes } from './threecx/routes';
import { VERSION } from './version';
import { assetRoutes } from './web/assets';
import { HealthChecks } from './operations/health';
import {
	GatewayMetrics,
	instrumentProvider,
	observeDeliveryAttempts,
	sendMetricsMiddleware,
} from './operations/metrics';
import { operationsRoutes } from './operations/routes';

export interface GatewayOptions {
	/** A path, or ':memory:' for a private database (tests). */
	databasePath: string;
	clock?: Clock;
	logger?: Logger;
	sandbox?: SandboxProvider;
	delivery?: Partial<DeliveryOptions>;
	/** The operator token from GATEWAY_ADMIN_TOKEN; unset means the one generated at bootstrap. */
	adminToken?: string;
	/** Behind a reverse proxy: client addresses from X-Forwarded-For (GATEWAY_TRUST_PROXY). */
	trustProxy?: boolean;
	/** Node process metrics (memory, CPU, event loop) on /metrics: the server turns them on. */
	processMetrics?: boolean;
	/** Real providers: request timeout, the gateway's public URL (for their webhooks), the Graph API base. */
	providers?: Partial<ProviderOptions>;
}

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
		const providerOptions = { ...DEFAULT_PROVIDER_OPTIONS, ...options.providers };
		this.providerOptions = providerOptions;
		this.evolution = new EvolutionProvider({
			timeoutMs: providerOptions.timeoutMs,
			publicUrl: providerOptions.publicUrl,
			clock: this.clock,
		});
		this.cloud = new CloudProvider({
			timeoutMs: providerOptions.timeoutMs,
			graphUrl: providerOptions.cloudGraphUrl,
			clock: this.clock,
		});
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
		});
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
		});
	}

	static fromConfig(config: Config, logger?: Logger): Gateway {
		return new Gateway({
			databasePath: config.databasePath,
			logger,
			adminToken: config.adminToken,
			trustProxy: config.trustProxy,
			processMetrics: true,
			providers: Gateway.providerOptions(config),
			sandbox: new SandboxProvider({
				failNumbers: config.sandbox.failNumbers,
				failureRate: config.sandbox.failureRate,
			}),
			delivery: {
				allowPrivate: config.webhooks.allowPrivate,
				timeoutMs: config.webhooks.timeoutMs,
				concurrency: config.webhooks.concurrency,
				retryScheduleMs: config.webhooks.retryScheduleMs,
			},
		});
	}

	/** What the real providers need from the configuration (the server and the CLI build them alike). */
	static providerOptions(config: Config): ProviderOptions {
		return {
			timeoutMs: config.providers.timeoutMs,
			publicUrl: config.publicUrl,
			cloudGraphUrl: config.providers.cloudGraphUrl,
		};
	}

	/** Where an instance's provider sends its webhooks (Evolution is told at connect; Meta's dashboard is told by the operator). */
	webhookUrl(instance: { id: string; provider: string }): string | undefined {
		return instanceWebhookUrl(this.providerOptions.publicUrl, instance);
	}

	/** Whether a token is the operator's (GATEWAY_ADMIN_TOKEN, or the one generated at first start). */
	readonly isOperator = (token: string | undefined): boolean => verifyAdminToken(this.accounts, this.adminToken, token);

	/** The HTTP application: one router per area, each given only what it uses. */
	createApp(): Koa {
		const apiKey = requireApiKey(this.accounts);
		const operator = requireOperator(this.isOperator);
		const routers: Router[] = [
			docsRoutes({ version: VERSION }),
			accountRoutes({ requireApiKey: apiKey, usage: (account) => this.messaging.log.usage(account) }),
			instanceRoutes({ requireApiKey: apiKey, instances: this.instances }),
			messagingRoutes({ clock: this.clock, requireApiKey: apiKey, messaging: this.messaging }),
			webhookRoutes({ requireApiKey: apiKey, webhooks: this.webhooks }),
			providerRoutes({
				isOperator: this.isOperator,
				instances: this.instances,
				providerInbound: this.providerInbound,
				cloud: this.cloud,
			}),
			operatorInstanceRoutes({
				isOperator: this.isOperator,
				accounts: this.accounts,
				instances: this.instances,
				connector: this.connector,
				webhookUrl: (instance) => this.webhookUrl(instance),
			}),
			operationsRoutes({ requireOperator: operator, health: this.health, metrics: this.metrics }),
			threecxRoutes({
				clock: this.clock,
				isOperator: this.isOperator,
				accounts: this.accounts,
				integrations: this.threecx.integrations,
				threecx: this.threecx.service,
				rateLimit: this.threecx.rateLimit,
			}),
		];
		const pages = [
			assetRoutes(),
			docsPageRoutes({ logger: this.logger }),
			dashboardRoutes({
				clock: this.clock,
				logger: this.logger,
				isOperator: this.isOperator,
				sessions: this.dashboardSessions,
				secureCookies: this.providerOptions.publicUrl.startsWith('https://'),
				publicUrl: this.providerOptions.publicUrl,
				accounts: this.accounts,
				instances: this.instances,
				connector: this.connector,
				webhookUrl: (instance) => this.webhookUrl(instance),
				webhooks: this.webhooks,
				messaging: this.messaging,
				threecxIntegrations: this.threecx.integrations,
				threecx: this.threecx.service,
				suppressions: this.suppressions,
				inbound: this.inbound,
				metrics: this.metrics,
			}),
		];
		return createApp({
			clock: this.clock,
			logger: this.logger,
			trustProxy: this.trustProxy,
			routers,
			pages,
			observers: [sendMetricsMiddleware(this.metrics)],
		});
	}

	/**
	 * Hourly upkeep. With `retentionDays` > 0, history older than that goes: message log entries, finished
	 * deliveries and their events, inbound messages. Nothing pending or in flight is touched.
	 */
	housekeeping(retentionDays: number): void {
		const retainBefore = retentionDays > 0 ? this.clock.now() - retentionDays * 86_400_000 : undefined;
		this.messaging.housekeeping(retainBefore);
		this.threecx.housekeeping(this.clock.now(), retainBefore);
		if (retainBefore !== undefined) {
			this.webhooks.prune(retainBefore);
			this.inbound.prune(retainBefore);
		}
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
