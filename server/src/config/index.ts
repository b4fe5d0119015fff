import path from 'node:path';
import { z } from 'zod';
import { isValidTimeZone } from '../accounts/time';
import { DEFAULT_DELIVERY } from '../events/delivery-defaults';
import {
	DEFAULT_PROVIDER,
	DEFAULT_PROVIDER_OPTIONS,
	PROVIDER_NAMES,
	type ProviderName,
	type ProviderOptions,
	localPublicUrl,
} from '../providers/defaults';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "0,5s,5m,30m,2h" → milliseconds; a bare number is milliseconds. */
function parseDurations(text: string): number[] | undefined {
	const parts = text.split(',').map((part) => part.trim());
	const values = parts.map((part) => {
		const match = /^(\d+)(ms|s|m|h)?$/.exec(part);
		return match ? Number(match[1]) * DURATION_UNITS[match[2] ?? 'ms'] : Number.NaN;
	});
	return values.length > 0 && values.every(Number.isFinite) ? values : undefined;
}

const booleanText = z
	.enum(['true', 'false', '1', '0', 'yes', 'no', ''])
	.transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalText = z
	.string()
	.trim()
	.transform((value) => (value === '' ? undefined : value))
	.optional();

/** Every environment variable the gateway reads, parsed once at start. docs/configuration.md documents each. */
const envSchema = z
	.object({
		// 0 picks a free port (tests); the listening log line says which.
		PORT: z.coerce.number().int().min(0).max(65535).default(3000),
		HOST: z.string().trim().min(1).default('0.0.0.0'),
		GATEWAY_DATA_DIR: z.string().trim().min(1).default('./data'),
		GATEWAY_ADMIN_TOKEN: optionalText.pipe(z.string().min(24, 'must be at least 24 characters').optional()),
		GATEWAY_PUBLIC_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
		GATEWAY_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
		GATEWAY_LOG_FORMAT: optionalText.pipe(z.enum(['auto', 'pretty', 'json']).default('auto')),
		GATEWAY_PROVIDER: z.enum(PROVIDER_NAMES).default(DEFAULT_PROVIDER),
		GATEWAY_PROVIDER_TIMEOUT_MS: z.coerce
			.number()
			.int()
			.min(100)
			.max(120_000)
			.default(DEFAULT_PROVIDER_OPTIONS.timeoutMs),
		GATEWAY_CLOUD_GRAPH_URL: z.url({ protocol: /^https?$/ }).default(DEFAULT_PROVIDER_OPTIONS.cloudGraphUrl),
		GATEWAY_TIME_ZONE: z
			.string()
			.trim()
			.default('UTC')
			.refine(isValidTimeZone, 'must be an IANA time zone such as Asia/Riyadh'),
		GATEWAY_SANDBOX_FAIL_NUMBERS: z
			.string()
			.default('')
			.transform((value) =>
				value
					.split(',')
					.map((item) => item.trim())
					.filter(Boolean),
			)
			.pipe(z.array(z.string().regex(/^\+[1-9]\d{6,14}$/, 'must list E.164 numbers such as +15550001111'))),
		GATEWAY_SANDBOX_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
		GATEWAY_SANDBOX_STATUS_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(2000),
		GATEWAY_WEBHOOK_BLOCK_PRIVATE: booleanText.default(false),
		GATEWAY_MEDIA_BLOCK_PRIVATE: booleanText.optional(),
		GATEWAY_TRUST_PROXY: booleanText.default(false),
		GATEWAY_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
		GATEWAY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(DEFAULT_DELIVERY.timeoutMs),
		GATEWAY_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(DEFAULT_DELIVERY.concurrency),
		GATEWAY_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(512),
		GATEWAY_HEADERS_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(10),
		GATEWAY_REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(1).max(3600).default(30),
		GATEWAY_WEBHOOK_RETRY_SCHEDULE: z
			.string()
			.optional()
			.transform((text, ctx) => {
				if (text === undefined) return [...DEFAULT_DELIVERY.retryScheduleMs];
				const values = parseDurations(text);
				if (!values) {
					ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of delays such as 0,5s,5m,2h' });
					return z.NEVER;
				}
				return values;
			}),
	})
	.refine((env) => env.GATEWAY_HEADERS_TIMEOUT_SECONDS <= env.GATEWAY_REQUEST_TIMEOUT_SECONDS, {
		path: ['GATEWAY_HEADERS_TIMEOUT_SECONDS'],
		message: 'must not be longer than GATEWAY_REQUEST_TIMEOUT_SECONDS',
	});

export interface Config {
	port: number;
	host: string;
	dataDir: string;
	databasePath: string;
	adminToken: string | undefined;
	publicUrl: string;
	/** Behind a reverse proxy: the client's address and scheme come from the proxy's X-Forwarded-* headers (its last hop). */
	trustProxy: boolean;
	logLevel: (typeof LOG_LEVELS)[number];
	/** `auto`: pretty on a terminal, JSON lines otherwise. */
	logFormat: 'auto' | 'pretty' | 'json';
	/** The provider of instances created without naming one. */
	provider: ProviderName;
	/** Real providers: per-attempt timeout of a provider request, and the Graph API base (with its version). */
	providers: Pick<ProviderOptions, 'timeoutMs' | 'cloudGraphUrl'>;
	defaultTimeZone: string;
	sandbox: { failNumbers: string[]; failureRate: number; statusDelayMs: number };
	/** Where tenants' media URLs may point (GATEWAY_MEDIA_BLOCK_PRIVATE, by default as the webhooks). */
	media: { allowPrivate: boolean };
	webhooks: { allowPrivate: boolean; timeoutMs: number; concurrency: number; retryScheduleMs: number[] };
	/** Days of history kept (message log, deliveries, events, inbound messages); 0 keeps everything. */
	retentionDays: number;
	/** Open client connections at most; how long a client may take to send its headers, and its whole request. */
	http: { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number };
}

export class ConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConfigError';
	}
}

/** Parses the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
	const parsed = envSchema.safeParse(env);
	if (!parsed.success) {
		const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
		throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
	}
	const values = parsed.data;
	const dataDir = path.resolve(cwd, values.GATEWAY_DATA_DIR);
	return {
		port: values.PORT,
		host: values.HOST,
		dataDir,
		databasePath: path.join(dataDir, 'gateway.db'),
		adminToken: values.GATEWAY_ADMIN_TOKEN,
		trustProxy: values.GATEWAY_TRUST_PROXY,
		publicUrl: (values.GATEWAY_PUBLIC_URL ?? localPublicUrl(values.PORT)).replace(/\/+$/, ''),
		logLevel: values.GATEWAY_LOG_LEVEL,
		logFormat: values.GATEWAY_LOG_FORMAT,
		provider: values.GATEWAY_PROVIDER,
		providers: {
			timeoutMs: values.GATEWAY_PROVIDER_TIMEOUT_MS,
			cloudGraphUrl: values.GATEWAY_CLOUD_GRAPH_URL.replace(/\/+$/, ''),
		},
		defaultTimeZone: values.GATEWAY_TIME_ZONE,
		sandbox: {
			failNumbers: values.GATEWAY_SANDBOX_FAIL_NUMBERS,
			failureRate: values.GATEWAY_SANDBOX_FAILURE_RATE,
			statusDelayMs: values.GATEWAY_SANDBOX_STATUS_DELAY_MS,
		},
		retentionDays: values.GATEWAY_RETENTION_DAYS,
		http: {
			maxConnections: values.GATEWAY_MAX_CONNECTIONS,
			headersTimeoutMs: Math.round(values.GATEWAY_HEADERS_TIMEOUT_SECONDS * 1000),
			requestTimeoutMs: Math.round(values.GATEWAY_REQUEST_TIMEOUT_SECONDS * 1000),
		},
		media: { allowPrivate: !(values.GATEWAY_MEDIA_BLOCK_PRIVATE ?? values.GATEWAY_WEBHOOK_BLOCK_PRIVATE) },
		webhooks: {
			allowPrivate: !values.GATEWAY_WEBHOOK_BLOCK_PRIVATE,
			timeoutMs: values.GATEWAY_WEBHOOK_TIMEOUT_MS,
			concurrency: values.GATEWAY_WEBHOOK_CONCURRENCY,
			retryScheduleMs: values.GATEWAY_WEBHOOK_RETRY_SCHEDULE,
		},
	};
}
