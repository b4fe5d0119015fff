import http from 'node:http';
import type { Config } from './config';
import { ensureOperatorToken } from './accounts/operator-token';
import { bootstrapIfEmpty, DEMO_INSTANCE_NAME, type BootstrapResult } from './bootstrap';
import { dataDirExposure } from './db/private-files';
import { lockDataDir, type DataDirLock } from './db/lock';
import { capConnections } from './connections';
import { Gateway } from './gateway';
import { createServerLogger, type Logger } from './logger';
import { bootstrapBanner, restartBanner } from './operations/banner';
import { startHousekeepingTimer } from './operations/housekeeping';

export interface RunningServer {
	gateway: Gateway;
	server: http.Server;
	url: string;
	stop(): Promise<void>;
}

/** What booting produced: a gateway listening, and what the banner shows of this start. */
interface Booted {
	gateway: Gateway;
	server: http.Server;
	bootstrap: BootstrapResult | undefined;
	operatorToken: string | undefined;
}

/**
 * Locks the data folder, opens the database, bootstraps an empty one, recovers what a crash interrupted,
 * listens, and stops cleanly on SIGTERM/SIGINT. A failed start releases everything it took.
 */
export async function startServer(
	config: Config,
	options: { logger?: Logger; print?: (text: string) => void; handleSignals?: boolean } = {},
): Promise<RunningServer> {
	const logger = options.logger ?? createServerLogger(config.logLevel, config.logFormat);
	const print = options.print ?? ((text: string) => process.stdout.write(text));
	const lock = acquireDataDir(config, logger);
	const booted = await bootOrRelease(config, logger, lock);
	const { gateway, server } = booted;
	startWorkers(gateway, config, logger);
	const url = announce(booted, config, logger, print);
	const housekeeping = startHousekeepingTimer(() => gateway.housekeeping(config.retentionDays), logger);
	const stop = stopOnce(() => shutDown(booted, lock, logger, housekeeping));
	if (options.handleSignals) stopOnSignals(stop, logger);
	return { gateway, server, url, stop };
}

/** The data folder's lock (one gateway per folder), with a warning when others can read the folder. */
function acquireDataDir(config: Config, logger: Logger): DataDirLock {
	const lock = lockDataDir(config.dataDir);
	const exposure = dataDirExposure(config.dataDir);
	if (exposure) logger.warn({ dataDir: config.dataDir }, exposure);
	return lock;
}

/** Boots; a failure closes what was opened and releases the lock before it is thrown. */
async function bootOrRelease(config: Config, logger: Logger, lock: DataDirLock): Promise<Booted> {
	let gateway: Gateway | undefined;
	try {
		gateway = Gateway.fromConfig(config, logger);
		return await boot(gateway, config, logger);
	} catch (error) {
		gateway?.close();
		lock.release();
		throw error;
	}
}

/** Bootstraps an empty database, makes sure of the operator token, recovers interrupted sends, and listens. */
async function boot(gateway: Gateway, config: Config, logger: Logger): Promise<Booted> {
	const bootstrap = bootstrapIfEmpty(gateway, { timeZone: config.defaultTimeZone });
	const operatorToken = ensureOperatorToken(gateway.accounts, config.adminToken);
	const recovered = gateway.messaging.recoverInterruptedSends();
	if (recovered > 0) logger.warn({ recovered }, 'sends interrupted by the last stop were marked unknown');
	const server = http.createServer(
		{
			headersTimeout: config.http.headersTimeoutMs,
			requestTimeout: config.http.requestTimeoutMs,
			// How often Node enforces the two timeouts above (its default, 30 s, would stretch them).
			connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs),
		},
		gateway.createApp().callback(),
	);
	server.keepAliveTimeout = 5_000;
	capConnections(server, config.http.maxConnections);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(config.port, config.host, () => resolve());
	});
	return { gateway, server, bootstrap, operatorToken };
}

/** The sandbox's status reports and the webhook delivery worker; a warning while sandbox instances exist. */
function startWorkers(gateway: Gateway, config: Config, logger: Logger): void {
	gateway.sandboxStatuses.start(config.sandbox.statusDelayMs);
	const sandboxInstances = gateway.instances.list().filter((instance) => instance.provider === 'sandbox').length;
	if (sandboxInstances > 0) {
		logger.warn(
			{ provider: 'sandbox', instances: sandboxInstances },
			'SANDBOX PROVIDER: messages to sandbox instances are accepted and logged but nothing is sent to WhatsApp',
		);
	}
	gateway.deliveries.start();
	gateway.health.deliveryWorkerStarted();
}

/** Logs where the gateway listens and prints the banner (the set-up one on the first start); returns its URL. */
function announce(booted: Booted, config: Config, logger: Logger, print: (text: string) => void): string {
	const { server, bootstrap, operatorToken } = booted;
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : config.port;
	logger.info({ port, host: config.host, dataDir: config.dataDir }, 'gateway listening');
	const baseUrl = config.publicUrl.replace(`:${config.port}`, `:${port}`);
	if (bootstrap) print(bootstrapBanner({ ...bootstrap, instanceName: DEMO_INSTANCE_NAME }, operatorToken, baseUrl));
	else print(restartBanner(baseUrl, operatorToken));
	return `http://localhost:${port}`;
}

/** No new connections, in-flight requests finished, deliveries stopped, then the database and the lock. */
async function shutDown(booted: Booted, lock: DataDirLock, logger: Logger, housekeeping: { stop(): void }) {
	const { gateway, server } = booted;
	logger.info('shutting down: no new connections, finishing in-flight requests');
	gateway.health.shuttingDown();
	housekeeping.stop();
	await new Promise<void>((resolve) => {
		server.close(() => resolve());
		server.closeIdleConnections();
	});
	await gateway.deliveries.stop();
	gateway.close();
	lock.release();
	logger.info('stopped');
}

/** However many times it is called, `stop` runs once; every call gets the same promise. */
function stopOnce(stop: () => Promise<void>): () => Promise<void> {
	let stopping: Promise<void> | undefined;
	return () => (stopping ??= stop());
}

/** SIGTERM or SIGINT stops the gateway, then exits 0. */
function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
	const onSignal = (signal: NodeJS.Signals) => {
		logger.info({ signal }, 'signal received');
		void stop().then(() => process.exit(0));
	};
	process.once('SIGTERM', onSignal);
	process.once('SIGINT', onSignal);
}
