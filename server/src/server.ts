import http from 'node:http';
import type { Config } from './config';
import { ensureOperatorToken } from './accounts/operator-token';
import { bootstrapIfEmpty, type BootstrapResult } from './bootstrap';
import { dataDirExposure } from './db/private-files';
import { lockDataDir } from './db/lock';
import { capConnections } from './connections';
import { Gateway } from './gateway';
import { createServerLogger, type Logger } from './logger';
import { restartBanner } from './operations/banner';

export interface RunningServer {
	gateway: Gateway;
	server: http.Server;
	url: string;
	stop(): Promise<void>;
}

const HOUR_MS = 60 * 60_000;

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
	const lock = lockDataDir(config.dataDir);
	const exposure = dataDirExposure(config.dataDir);
	if (exposure) logger.warn({ dataDir: config.dataDir }, exposure);
	let gateway: Gateway | undefined;
	let server: http.Server;
	let bootstrap: BootstrapResult | undefined;
	let operatorToken: string | undefined;
	try {
		gateway = Gateway.fromConfig(config, logger);
		bootstrap = bootstrapIfEmpty(gateway, { timeZone: config.defaultTimeZone });
		operatorToken = ensureOperatorToken(gateway.accounts, config.adminToken);
		const recovered = gateway.messaging.recoverInterruptedSends();
		if (recovered > 0) logger.warn({ recovered }, 'sends interrupted by the last stop were marked unknown');
		server = http.createServer(
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
	} catch (error) {
		gateway?.close();
		lock.release();
		throw error;
	}
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
	const running = gateway;
	const address = server.address();
	const port = typeof address === 'object' && address ? address.port : config.port;
	const url = `http://localhost:${port}`;
	logger.info({ port, host: config.host, dataDir: config.dataDir }, 'gateway listening');
	const baseUrl = config.publicUrl.replace(`:${config.port}`, `:${port}`);
	if (bootstrap) print(bootstrapBanner(bootstrap, operatorToken, baseUrl));
	else print(restartBanner(baseUrl, operatorToken));

	const housekeeping = () => {
		try {
			running.housekeeping(config.retentionDays);
		} catch (error) {
			logger.error({ err: error }, 'housekeeping failed');
		}
	};
	housekeeping();
	const purgeTimer = setInterval(housekeeping, HOUR_MS);
	purgeTimer.unref();

	let stopping: Promise<void> | undefined;
	const stop = () => {
		stopping ??= (async () => {
			logger.info('shutting down: no new connections, finishing in-flight requests');
			running.health.shuttingDown();
			clearInterval(purgeTimer);
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeIdleConnections();
			});
			await running.deliveries.stop();
			running.close();
			lock.release();
			logger.info('stopped');
		})();
		return stopping;
	};
	if (options.handleSignals) {
		const onSignal = (signal: NodeJS.Signals) => {
			logger.info({ signal }, 'signal received');
			void stop().then(() => process.exit(0));
		};
		process.once('SIGTERM', onSignal);
		process.once('SIGINT', onSignal);
	}
	return { gateway: running, server, url, stop };
}

function bootstrapBanner(result: BootstrapResult, operatorToken: string | undefined, baseUrl: string): string {
	const lines = [
		'',
		'WhatsApp Gateway is set up for the first time. Keep these; they are not shown again.',
		`  API key:            ${result.apiKey}`,
		`  Instance:           demo-support-line (${result.instanceId}, sandbox provider)`,
		`  Gateway URL:        ${baseUrl}`,
		`  API description:    ${baseUrl}/openapi.json   Docs: ${baseUrl}/docs`,
		`  Dashboard:          ${baseUrl}/login   (sign in with the operator token)`,
		operatorToken ? `  Operator token:     ${operatorToken}` : '  Operator token:     the value of GATEWAY_ADMIN_TOKEN',
		'',
		'Send a test message (the sandbox delivers nothing to WhatsApp):',
		`  curl -s -X POST ${baseUrl}/api/send-message \\`,
		`    -H "Authorization: Bearer ${result.apiKey}" -H "Content-Type: application/json" \\`,
		`    -d '{"instance_id":"demo-support-line","phone":"+966501234567","message":"Your order #2041 has shipped.","message_purpose":"transactional"}'`,
		'',
		'Next, connect n8n (README, "Connect n8n"): install the nodes, then create a "WhatsApp Gateway API"',
		`credential with Base URL ${baseUrl} and the API key above.`,
		'',
	];
	return `${lines.join('\n')}\n`;
}
