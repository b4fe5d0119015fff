import { AccountService } from './accounts/service';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { openDatabase, type Db } from './db';
import { createApp } from './http/app';
import { InstanceService } from './instances/service';
import { createLogger, type Logger } from './logger';
import { SendService } from './messaging/service';
import { SuppressionService } from './messaging/suppressions';
import { SandboxProvider } from './providers/sandbox';
import type { Provider } from './providers/types';
import { VERSION } from './version';

export interface GatewayOptions {
  /** A path, or ':memory:' for a private database (tests). */
  databasePath: string;
  clock?: Clock;
  logger?: Logger;
  sandbox?: SandboxProvider;
  providers?: Record<string, Provider>;
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
  readonly sends: SendService;

  constructor(options: GatewayOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createLogger('silent');
    this.db = openDatabase(options.databasePath);
    this.sandbox = options.sandbox ?? new SandboxProvider();
    this.providers = { sandbox: this.sandbox, ...options.providers };
    this.accounts = new AccountService(this.db, this.clock);
    this.instances = new InstanceService(this.db, this.clock);
    this.suppressions = new SuppressionService(this.db, this.clock);
    this.sends = new SendService({
      db: this.db,
      clock: this.clock,
      logger: this.logger,
      accounts: this.accounts,
      instances: this.instances,
      suppressions: this.suppressions,
      providers: this.providers,
    });
  }

  static fromConfig(config: Config, logger?: Logger): Gateway {
    return new Gateway({
      databasePath: config.databasePath,
      logger,
      sandbox: new SandboxProvider({
        failNumbers: config.sandbox.failNumbers,
        failureRate: config.sandbox.failureRate,
      }),
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
    });
  }

  /** Commits queued writes, then closes the database. */
  close(): void {
    if (!this.db.open) return;
    this.sends.flushWrites();
    this.db.close();
  }
}
