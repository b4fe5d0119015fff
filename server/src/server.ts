import http from 'node:http';
import type { Config } from './config';
import { DEMO_INSTANCE_NAME, setUpStartSecrets, type StartSecrets } from './bootstrap';
import { dataDirExposure } from './db/private-files';
import { lockDataDir, type DataDirLock } from './db/lock';
import { capConnections } from './connections';
import { Gateway } from './gateway';
import { createServerLogger, type Logger } from './logger';
import { bootstrapBanner, operatorTokenBanner, restartBanner, secretsFileNotice } from './operations/banner';
import { startHousekeepingTimer } from './operations/housekeeping';
import {
	leftoverCredentialsFile,
	secretsOutlet,
	stdoutIsTerminal,
	type OneTimeSecrets,
	type ShowSecrets,
} from './operations/one-time-secrets';

export interface RunningServer {
	gateway: Gateway;
	server: http.Server;
	url: string;
	stop(): Promise<void>;
}

/** What booting produced: a gateway listening at `baseUrl`, and the secrets this start created and showed. */
interface Booted {
	gateway: Gateway;
	server: http.Server;
	baseUrl: string;
	secrets: StartSecrets;
}

export interface StartOptions {
	logger?: Logger;
	/** Stdout (the banner); a test's collector. */
	print?: (text: string) => void;
	/** Whether `print` writes to a terminal, where one-time secrets may be shown; default: stdout's. */
	terminal?: boolean;
	handleSignals?: boolean;
}

/**
 * Locks the data folder, opens the database, recovers what a crash interrupted, listens, then sets up an
 * empty database and shows its secrets once, and stops cleanly on SIGTERM/SIGINT. A failed start releases
 * everything it took.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
	const logger = options.logger ?? createServerLogger(config.logLevel, config.logFormat);
	const print = options.print ?? ((text: string) => process.stdout.write(text));
	const show = secretsOutlet({ terminal: options.terminal ?? stdoutIsTerminal(), print, dataDir: config.dataDir });
	const lock = acquireDataDir(config, logger);
	const booted = await bootOrRelease(config, logger, lock, show);
	const { gateway } = booted;
	startWorkers(gateway, config, logger);
	const url = announce(booted, config, logger, print);
	const housekeeping = startHousekeepingTimer(() => gateway.housekeeping(config.retentionDays), logger);
	const stop = stopOnce(() => shutDown(booted, lock, logger, housekeeping));
	if (options.handleSignals) stopOnSignals(stop, logger);
	return { gateway, server: booted.server, url, stop };
}

/** The data folder's lock (one gateway per folder), with a warning when others can read the folder. */
function acquireDataDir(config: Config, logger: Logger): DataDirLock {
	const lock = lockDataDir(config.dataDir);
	const exposure = dataDirExposure(config.dataDir);
	if (exposure) logger.warn({ dataDir: config.dataDir }, exposure);
	return lock;
}

/**
 * Opens the database, recovers interrupted sends and listens; only then, with the port held, creates the
 * first start's account, key and operator token, committed once shown. A failure closes what was opened
 * and releases the lock before it is thrown, so a busy port creates nothing that the next start could not show.
 */
async function bootOrRelease(config: Config, logger: Logger, lock: DataDirLock, show: ShowSecrets): Promise<Booted> {
	let gateway: Gateway | undefined;
	let server: http.Server | undefined;
	try {
		gateway = Gateway.fromConfig(config, logger);
		const recovered = gateway.messaging.recoverInterruptedSends();
		if (recovered > 0) logger.warn({ recovered }, 'sends interrupted by the last stop were marked unknown');
		server = await listen(gateway, config);
		const baseUrl = baseUrlOf(server, config);
		const options = { timeZone: config.defaultTimeZone, adminToken: config.adminToken };
		const secrets = setUpStartSecrets(gateway, options, (created) => show(oneTimeSecrets(created, baseUrl, config)));
		return { gateway, server, baseUrl, secrets };
	} catch (error) {
		if (server?.listening) await new Promise((resolve) => server!.close(resolve));
		gateway?.close();
		lock.release();
		throw error;
	}
}

/** The HTTP server on the configured port; rejects (EADDRINUSE) when the port is taken. */
async function listen(gateway: Gateway, config: Config): Promise<http.Server> {
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
	return server;
}

/** The public URL, with the port the server got when the configured one was 0. */
function baseUrlOf(server: http.Server, config: Config): string {
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : config.port;
	return config.publicUrl.replace(`:${config.port}`, `:${port}`);
}

/** The texts of what this start created: the set-up banner, or a generated operator token alone. */
function oneTimeSecrets(created: StartSecrets, baseUrl: string, config: Config): OneTimeSecrets {
	const { bootstrap, operatorToken } = created;
	const facts = {
		baseUrl,
		dataDir: config.dataDir,
		firstStart: bootstrap !== undefined,
		apiKey: bootstrap !== undefined,
		operatorToken: operatorToken !== undefined,
	};
	return {
		text: bootstrap
			? bootstrapBanner({ ...bootstrap, instanceName: DEMO_INSTANCE_NAME }, operatorToken, baseUrl)
			: operatorTokenBanner(operatorToken!),
		notice: (file) => secretsFileNotice(file, facts),
	};
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

/** Logs where the gateway listens and, after a restart, prints where it is; returns its URL. */
function announce(booted: Booted, config: Config, logger: Logger, print: (text: string) => void): string {
	const { server, baseUrl, secrets } = booted;
	const port = (server.address() as { port: number }).port;
	logger.info({ port, host: config.host, dataDir: config.dataDir }, 'gateway listening');
	if (!secrets.bootstrap) print(restartBanner(baseUrl));
	const leftover = secrets.bootstrap || secrets.operatorToken ? undefined : leftoverCredentialsFile(config.dataDir);
	if (leftover) {
		logger.warn(
			{ file: leftover },
			"the first start's credentials file is still in the data folder: keep its secrets somewhere safe and delete it",
		);
	}
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
