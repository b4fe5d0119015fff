import http from 'node:http';
import type { Config } from './config';
import { bootstrapIfEmpty, type BootstrapResult } from './bootstrap';
import { Gateway } from './gateway';
import { createLogger, type Logger } from './logger';

export interface RunningServer {
  gateway: Gateway;
  server: http.Server;
  url: string;
  stop(): Promise<void>;
}

const HOUR_MS = 60 * 60_000;

/** Opens the database, bootstraps an empty one, listens, and stops cleanly on SIGTERM/SIGINT. */
export async function startServer(
  config: Config,
  options: { logger?: Logger; print?: (text: string) => void; handleSignals?: boolean } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  const gateway = Gateway.fromConfig(config, logger);
  const bootstrap = bootstrapIfEmpty(gateway, { timeZone: config.defaultTimeZone, adminToken: config.adminToken });
  if (config.provider === 'sandbox') gateway.simulateSandboxStatuses(config.sandbox.statusDelayMs);
  gateway.deliveries.start();
  const recovered = gateway.sends.recoverInterruptedSends();
  if (recovered > 0) logger.warn({ recovered }, 'sends interrupted by the last stop were marked unknown');
  if (config.provider === 'sandbox') {
    logger.warn(
      { provider: 'sandbox' },
      'SANDBOX PROVIDER: messages are accepted and logged but nothing is sent to WhatsApp',
    );
  }

  const app = gateway.createApp();
  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  logger.info({ port, host: config.host, dataDir: config.dataDir }, 'gateway listening');
  if (bootstrap) print(bootstrapBanner(bootstrap, config.publicUrl.replace(`:${config.port}`, `:${port}`)));

  const purgeTimer = setInterval(() => gateway.sends.housekeeping(), HOUR_MS);
  purgeTimer.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down: no new connections, finishing in-flight requests');
      clearInterval(purgeTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await gateway.deliveries.stop();
      gateway.close();
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
  return { gateway, server, url, stop };
}

function bootstrapBanner(result: BootstrapResult, baseUrl: string): string {
  const lines = [
    '',
    'WhatsApp Gateway is set up for the first time. Keep these; they are not shown again.',
    `  API key:            ${result.apiKey}`,
    `  Instance:           demo-support-line (${result.instanceId}, sandbox provider)`,
    `  Gateway URL:        ${baseUrl}`,
    `  API description:    ${baseUrl}/openapi.json`,
    result.generatedAdminToken
      ? `  Operator token:     ${result.generatedAdminToken}`
      : '  Operator token:     the value of GATEWAY_ADMIN_TOKEN',
    '',
    'Send a test message (the sandbox delivers nothing to WhatsApp):',
    `  curl -s -X POST ${baseUrl}/api/send-message \\`,
    `    -H "Authorization: Bearer ${result.apiKey}" -H "Content-Type: application/json" \\`,
    `    -d '{"instance_id":"demo-support-line","phone":"+966501234567","message":"Your order #2041 has shipped.","message_purpose":"transactional"}'`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
