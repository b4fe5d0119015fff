/**
 * The providers' names and defaults, owned here: the configuration (config/index.ts) takes them as the
 * defaults of its variables, the gateway builds its providers with them when nothing configures them, and
 * each adapter paces an instance with its own default when the instance sets no `pacePerMinute`.
 */

export const PROVIDER_NAMES = ['sandbox', 'evolution', 'cloud'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The providers that post webhooks to the gateway (the sandbox's inbound is simulated by the operator). */
export const WEBHOOK_PROVIDER_NAMES = ['evolution', 'cloud'] as const satisfies readonly ProviderName[];
export type WebhookProviderName = (typeof WEBHOOK_PROVIDER_NAMES)[number];

export const isWebhookProvider = (name: string): name is WebhookProviderName =>
	(WEBHOOK_PROVIDER_NAMES as readonly string[]).includes(name);

/** The gateway's own address when GATEWAY_PUBLIC_URL is not set: this machine, on the port it listens on. */
export const localPublicUrl = (port: number) => `http://localhost:${port}`;

/** The provider of instances created without naming one (GATEWAY_PROVIDER). */
export const DEFAULT_PROVIDER: ProviderName = 'sandbox';

/** What the real providers are built with. */
export interface ProviderOptions {
	/** Per-attempt timeout of a provider request (GATEWAY_PROVIDER_TIMEOUT_MS). */
	timeoutMs: number;
	/** The gateway's public URL, where providers post their webhooks (GATEWAY_PUBLIC_URL). */
	publicUrl: string;
	/** The Graph API base with its version (GATEWAY_CLOUD_GRAPH_URL). */
	cloudGraphUrl: string;
}

export const DEFAULT_PROVIDER_OPTIONS: ProviderOptions = {
	timeoutMs: 15_000,
	publicUrl: localPublicUrl(3000),
	cloudGraphUrl: 'https://graph.facebook.com/v23.0',
};

/** Evolution itself has no rate limiter and its issues show bans after bursts (#2538, #2298): one send every 3 s. */
export const EVOLUTION_DEFAULT_PACE_PER_MINUTE = 20;

/** Cloud API's default throughput is 80 messages per second per business phone number. */
export const CLOUD_DEFAULT_PACE_PER_MINUTE = 80 * 60;
