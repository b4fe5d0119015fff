import type { Clock } from './clock';
import type { Config } from './config';
import type { DeliveryOptions } from './events/delivery-worker';
import type { Logger } from './logger';
import type { MediaDestinations } from './messaging/media-url';
import type { ProviderOptions } from './providers/defaults';
import { SandboxProvider } from './providers/sandbox';

/** What a Gateway is built from; anything left out takes its default (the tests set what they need). */
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
	/** Where tenants' media URLs may point; by default as the webhook destinations. */
	media?: Partial<MediaDestinations>;
}

/** The server's gateway: everything the configuration sets, process metrics on. */
export function gatewayOptionsFromConfig(config: Config, logger?: Logger): GatewayOptions {
	return {
		databasePath: config.databasePath,
		logger,
		adminToken: config.adminToken,
		trustProxy: config.trustProxy,
		processMetrics: true,
		providers: providerOptionsFromConfig(config),
		sandbox: new SandboxProvider({
			failNumbers: config.sandbox.failNumbers,
			failureRate: config.sandbox.failureRate,
		}),
		media: { allowPrivate: config.media.allowPrivate },
		delivery: {
			allowPrivate: config.webhooks.allowPrivate,
			timeoutMs: config.webhooks.timeoutMs,
			concurrency: config.webhooks.concurrency,
			retryScheduleMs: config.webhooks.retryScheduleMs,
		},
	};
}

/** What the real providers need from the configuration (the server and the CLI build them alike). */
export function providerOptionsFromConfig(config: Config): ProviderOptions {
	return {
		timeoutMs: config.providers.timeoutMs,
		publicUrl: config.publicUrl,
		cloudGraphUrl: config.providers.cloudGraphUrl,
	};
}
