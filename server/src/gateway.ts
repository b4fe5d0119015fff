import { AccountService } from './accounts/service';
import { verifyAdminToken } from './bootstrap';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { openDatabase, type Db } from './db';
import { DEFAULT_RETRY_SCHEDULE_MS, DeliveryWorker, type DeliveryOptions } from './events/delivery-worker';
import { InboundService } from './events/inbound';
import { EventOutbox } from './events/outbox';
import { EventsRepository } from './events/repository';
import { WebhookService } from './events/webhooks';
import { createApp } from './http/app';
import { InstanceService } from './instances/service';
import { createLogger, type Logger } from './logger';
import { SendService } from './messaging/service';
import { SuppressionService } from './messaging/suppressions';
import { SandboxProvider } from './providers/sandbox';
import type { Provider } from './providers/types';
import { VERSION } from './version';
import { HealthChecks } from './operations/health';
import { GatewayMetrics, instrumentProviders, observeDeliveryAttempts } from './operations/metrics';
import { operationsHttp } from './operations/routes';

export interface GatewayOptions {
  /** A path, or ':memory:' for a private database (tests). */
  databasePath: string;
  clock?: Clock;
  logger?: Logger;
  sandbox?: SandboxProvider;
  providers?: Record<string, Provider>;
  delivery?: Partial<DeliveryOptions>;
  /** The operator token from GATEWAY_ADMIN_TOKEN; unset means the one generated at bootstrap. */
  adminToken?: string;
  /** Node process metrics (memory, CPU, event loop) on /metrics: the server turns them on. */
  processMetrics?: boolean;
}

/** Everything one running gateway is made of; the HTTP server, the CLI and the tests all build one here. */
export class Gateway {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sandbox: SandboxProvider;
  readonly providers: Record<string, Provider>;
  readonly accounts: AccountService;
  readonly instances: InstanceService;
  readonly suppressions: SuppressionService;
  readonly outbox: EventOutbox;
  readonly sends: SendService;
  readonly inbound: InboundService;
  readonly webhooks: WebhookService;
  readonly deliveries: DeliveryWorker;
  readonly adminToken: string | undefined;
  readonly metrics: GatewayMetrics;
  readonly health: HealthChecks;
  private readonly statusTimers = new Set<NodeJS.Timeout>();

  constructor(options: GatewayOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger('silent');
    this.adminToken = options.adminToken;
    this.db = openDatabase(options.databasePath);
    this.sandbox = options.sandbox ?? new SandboxProvider();
    this.metrics = new GatewayMetrics(this.db, this.clock, { processMetrics: options.processMetrics });
    this.health = new HealthChecks(() => this.accounts.setSetting('health_probe_at', String(this.clock.now())));
    this.providers = instrumentProviders({ sandbox: this.sandbox, ...options.providers }, this.metrics);
    this.accounts = new AccountService(this.db, this.clock);
    this.instances = new InstanceService(this.db, this.clock);
    this.suppressions = new SuppressionService(this.db, this.clock);
    const eventsRepo = new EventsRepository(this.db);
    this.outbox = new EventOutbox(eventsRepo, this.clock);
    this.sends = new SendService({
      db: this.db,
      clock: this.clock,
      logger: this.logger,
      accounts: this.accounts,
      instances: this.instances,
      suppressions: this.suppressions,
      providers: this.providers,
      outbox: this.outbox,
    });
    this.inbound = new InboundService({
      clock: this.clock,
      logger: this.logger,
      repo: eventsRepo,
      outbox: this.outbox,
      accounts: this.accounts,
      instances: this.instances,
      suppressions: this.suppressions,
      sends: this.sends,
    });
    const delivery: DeliveryOptions = {
      retryScheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
      timeoutMs: 10_000,
      concurrency: 16,
      pollMs: 1000,
      allowPrivate: true,
      ...options.delivery,
    };
    this.webhooks = new WebhookService(eventsRepo, this.instances, this.clock, delivery.allowPrivate);
    observeDeliveryAttempts(eventsRepo, this.metrics);
    this.deliveries = new DeliveryWorker({ db: this.db, repo: eventsRepo, clock: this.clock, logger: this.logger, options: delivery });
    this.outbox.onRecorded((webhookIds) => this.deliveries.notify(webhookIds));
  }

  static fromConfig(config: Config, logger?: Logger): Gateway {
    return new Gateway({
      databasePath: config.databasePath,
      logger,
      adminToken: config.adminToken,
      processMetrics: true,
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

  /**
   * The sandbox reports `delivered`, then `read`, for each of its sends, `delayMs` apart: the lifecycle
   * events a real provider would produce.
   */
  simulateSandboxStatuses(delayMs: number): void {
    const later = (fn: () => void) => {
      const timer = setTimeout(() => {
        this.statusTimers.delete(timer);
        fn();
      }, delayMs);
      this.statusTimers.add(timer);
    };
    this.sandbox.onSend((send) => {
      const report = (status: string) => {
        // The send's own outcome is committed first (it may still sit in the commit queue).
        this.sends.flushWrites();
        this.inbound.receiveStatus({ instanceId: send.instanceId, providerMessageId: send.messageId, status });
      };
      later(() => {
        report('delivered');
        later(() => report('read'));
      });
    });
  }

  createApp() {
    return createApp({
      clock: this.clock,
      logger: this.logger,
      version: VERSION,
      accounts: this.accounts,
      instances: this.instances,
      sends: this.sends,
      inbound: this.inbound,
      webhooks: this.webhooks,
      verifyOperator: (token) => verifyAdminToken(this, this.adminToken, token),
      operations: operationsHttp({
        health: this.health,
        metrics: this.metrics,
        verifyOperator: (token) => verifyAdminToken(this, this.adminToken, token),
      }),
    });
  }

  /**
   * Hourly upkeep. With `retentionDays` > 0, history older than that goes: message log entries, finished
   * deliveries and their events, inbound messages. Nothing pending or in flight is touched.
   */
  housekeeping(retentionDays: number): void {
    const retainBefore = retentionDays > 0 ? this.clock.now() - retentionDays * 86_400_000 : undefined;
    this.sends.housekeeping(retainBefore);
    if (retainBefore !== undefined) this.inbound.prune(retainBefore);
  }

  /** Commits queued writes, then closes the database (the delivery worker must be stopped first). */
  close(): void {
    if (!this.db.open) return;
    for (const timer of this.statusTimers) clearTimeout(timer);
    this.statusTimers.clear();
    this.sends.flushWrites();
    this.db.close();
  }
}
