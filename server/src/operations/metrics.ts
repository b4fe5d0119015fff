import type Koa from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock';
import type { Provider } from '../providers/types';
import { OutboxGauges } from './outbox-gauges';
import type Database from 'better-sqlite3';

/** Send outcomes as the caller saw them on `POST /api/send-message`. */
export type SendOutcome = 'sent' | 'refused' | 'failed' | 'replayed';

export type DeliveryAttemptResult = 'succeeded' | 'retry_scheduled' | 'failed' | 'endpoint_gone';

/** The provider calls whose latency is measured; everything else on a provider passes through untouched. */
const TIMED_PROVIDER_CALLS = new Set(['sendText', 'sendMedia', 'connect', 'connectionState']);

const QUOTA_CODES: Record<string, 'daily' | 'monthly'> = {
	daily_message_limit_exceeded: 'daily',
	monthly_message_limit_exceeded: 'monthly',
};

/**
 * The gateway's Prometheus metrics, one registry per Gateway (tests run several in one process).
 * Counters move as things happen; the outbox gauges are read from the database at scrape time.
 */
export class GatewayMetrics {
	readonly registry = new Registry();
	private readonly sends: Counter<'outcome' | 'code'>;
	private readonly quotaRefusals: Counter<'period'>;
	private readonly deliveryAttempts: Counter<'result'>;
	private readonly providerLatency: Histogram<'provider' | 'operation' | 'outcome'>;
	private readonly refusalsCounted: Counter<'code'>;
	private readonly threecxRateLimited: Counter<'integration'>;
	private readonly outbox: OutboxGauges;
	private readonly clock: Clock;

	constructor(db: Database.Database, clock: Clock, options: { processMetrics?: boolean } = {}) {
		const registers = [this.registry];
		this.sends = new Counter({
			name: 'whatsapp_gateway_sends_total',
			help: 'Answers of POST /api/send-message by outcome (sent, refused, failed, replayed) and error code ("none" when sent)',
			labelNames: ['outcome', 'code'],
			registers,
		});
		this.quotaRefusals = new Counter({
			name: 'whatsapp_gateway_quota_refusals_total',
			help: 'Sends refused because the daily or monthly plan quota was reached',
			labelNames: ['period'],
			registers,
		});
		this.deliveryAttempts = new Counter({
			name: 'whatsapp_gateway_delivery_attempts_total',
			help: 'Webhook delivery attempts by result (succeeded, retry_scheduled, failed for good, endpoint_gone on 410)',
			labelNames: ['result'],
			registers,
		});
		this.providerLatency = new Histogram({
			name: 'whatsapp_gateway_provider_request_duration_seconds',
			help: 'Time the WhatsApp provider took per call, by provider, operation and outcome (ok or error)',
			labelNames: ['provider', 'operation', 'outcome'],
			buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
			registers,
		});
		this.refusalsCounted = new Counter({
			name: 'whatsapp_gateway_refused_attempts_total',
			help: "Send refusals past an API key's per-minute log budget: answered, counted in refused_attempts, not written to the message log, by error code",
			labelNames: ['code'],
			registers,
		});
		this.threecxRateLimited = new Counter({
			name: 'whatsapp_gateway_3cx_rate_limited_total',
			help: '3CX requests refused with 429 webhook_rate_limited (60 a minute per integration), by integration id',
			labelNames: ['integration'],
			registers,
		});
		// Series that exist from the start, so rate() and alerts see a 0 before the first event.
		this.sends.inc({ outcome: 'sent', code: 'none' }, 0);
		for (const period of ['daily', 'monthly'] as const) this.quotaRefusals.inc({ period }, 0);
		for (const result of ['succeeded', 'retry_scheduled', 'failed', 'endpoint_gone'] as const) {
			this.deliveryAttempts.inc({ result }, 0);
		}
		const outbox = new OutboxGauges(db);
		this.outbox = outbox;
		this.clock = clock;
		new Gauge({
			name: 'whatsapp_gateway_outbox_pending_deliveries',
			help: 'Webhook deliveries not yet succeeded or failed for good (including those waiting for a retry)',
			registers,
			collect() {
				this.set(outbox.pending());
			},
		});
		new Gauge({
			name: 'whatsapp_gateway_outbox_due_deliveries',
			help: 'Pending webhook deliveries whose attempt time has come (the backlog the worker has not sent yet)',
			registers,
			collect() {
				this.set(outbox.due(clock.now()));
			},
		});
		const lag: Gauge = new Gauge({
			name: 'whatsapp_gateway_delivery_lag_seconds',
			help: 'How late the oldest due webhook delivery is (0 when nothing is due)',
			registers,
			collect: () => lag.set(this.deliveryLagSeconds()),
		});
		if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'whatsapp_gateway_' });
	}

	/** How late the oldest due webhook delivery is, in seconds (0 when nothing is due). */
	private deliveryLagSeconds(): number {
		const now = this.clock.now();
		const oldest = this.outbox.oldestDueAt(now);
		return oldest === null ? 0 : Math.max(0, now - oldest) / 1000;
	}

	/** The webhook delivery figures `/metrics` shows, as numbers (the dashboard's overview). */
	async deliveryFigures(): Promise<{
		attempts: Record<DeliveryAttemptResult, number>;
		pending: number;
		due: number;
		lagSeconds: number;
	}> {
		const attempts: Record<DeliveryAttemptResult, number> = {
			succeeded: 0,
			retry_scheduled: 0,
			failed: 0,
			endpoint_gone: 0,
		};
		for (const { labels, value } of (await this.deliveryAttempts.get()).values) {
			attempts[labels.result as DeliveryAttemptResult] = value;
		}
		const now = this.clock.now();
		return {
			attempts,
			pending: this.outbox.pending(),
			due: this.outbox.due(now),
			lagSeconds: this.deliveryLagSeconds(),
		};
	}

	/** Counts one answer of the send route from its status and `error` code. */
	observeSendAnswer(status: number, body: unknown, replayed: boolean): void {
		const code = errorCode(body);
		const outcome: SendOutcome = replayed ? 'replayed' : status === 200 ? 'sent' : status >= 500 ? 'failed' : 'refused';
		this.sends.inc({ outcome, code: code ?? 'none' });
		const period = code && !replayed ? QUOTA_CODES[code] : undefined;
		if (period) this.quotaRefusals.inc({ period });
	}

	/** A send refusal counted instead of logged (the key's budget of logged refusals was spent). */
	observeRefusalCounted(code: string): void {
		this.refusalsCounted.inc({ code });
	}

	/** A 3CX request refused by the per-integration rate limit. */
	observeThreecxRateLimited(integrationId: number): void {
		this.threecxRateLimited.inc({ integration: String(integrationId) });
	}

	observeDeliveryAttempt(result: DeliveryAttemptResult): void {
		this.deliveryAttempts.inc({ result });
	}

	observeProviderCall(provider: string, operation: string, outcome: 'ok' | 'error', seconds: number): void {
		this.providerLatency.observe({ provider, operation, outcome }, seconds);
	}

	async render(): Promise<{ contentType: string; text: string }> {
		return { contentType: this.registry.contentType, text: await this.registry.metrics() };
	}
}

function errorCode(body: unknown): string | undefined {
	let parsed = body;
	if (typeof body === 'string' || Buffer.isBuffer(body)) {
		try {
			parsed = JSON.parse(body.toString());
		} catch {
			return undefined;
		}
	}
	const code = parsed !== null && typeof parsed === 'object' ? (parsed as { error?: unknown }).error : undefined;
	return typeof code === 'string' ? code : undefined;
}

/**
 * Counts every answer of `POST /api/send-message` by looking at what leaves the route, so the send
 * pipeline itself knows nothing about metrics. Must sit outside the error middleware to see mapped errors.
 */
export function sendMetricsMiddleware(metrics: GatewayMetrics): Koa.Middleware {
	return async (ctx, next) => {
		if (ctx.method !== 'POST' || ctx.path !== '/api/send-message') return next();
		try {
			await next();
		} finally {
			metrics.observeSendAnswer(ctx.status, ctx.body, ctx.response.get('Idempotent-Replayed') === 'true');
		}
	};
}

/**
 * The same provider with its calls timed. A Proxy rather than a wrapper class, so whatever a provider
 * adds later (inbound parsing, its own listeners) passes through unchanged.
 */
export function instrumentProvider<P extends Provider>(provider: P, metrics: GatewayMetrics): P {
	return new Proxy(provider, {
		get(target, property, receiver) {
			const value: unknown = Reflect.get(target, property, receiver);
			if (typeof property !== 'string' || !TIMED_PROVIDER_CALLS.has(property) || typeof value !== 'function')
				return value;
			return async (...args: unknown[]) => {
				const started = process.hrtime.bigint();
				const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
				try {
					const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
					metrics.observeProviderCall(target.name, property, 'ok', seconds());
					return result;
				} catch (error) {
					metrics.observeProviderCall(target.name, property, 'error', seconds());
					throw error;
				}
			};
		},
	});
}

/** The two outbox writes that end an attempt, as the delivery worker calls them on its repository's outbox. */
interface DeliveryOutcomeWriter {
	completeDelivery(
		id: number,
		outcome: { status: 'succeeded' | 'failed'; statusCode: number | null; error: string | null },
		now: number,
	): void;
	scheduleRetry(id: number, at: number, statusCode: number | null, error: string | null, now: number): void;
}

/**
 * Counts delivery attempts where the worker records them: its repository's outbox completeDelivery
 * (succeeded, failed for good, or 410) and scheduleRetry. The worker stays untouched; only that object's
 * methods are wrapped. A redelivery requested by the operator is not an attempt and does not pass here. (When
 * a group commit fails and its jobs are run again one by one, an attempt in that batch counts twice.)
 */
export function observeDeliveryAttempts(repo: { outbox: DeliveryOutcomeWriter }, metrics: GatewayMetrics): void {
	const outbox = repo.outbox;
	const complete = outbox.completeDelivery.bind(outbox);
	const retry = outbox.scheduleRetry.bind(outbox);
	outbox.completeDelivery = (id, outcome, now) => {
		complete(id, outcome, now);
		metrics.observeDeliveryAttempt(
			outcome.status === 'succeeded' ? 'succeeded' : outcome.statusCode === 410 ? 'endpoint_gone' : 'failed',
		);
	};
	outbox.scheduleRetry = (id, at, statusCode, error, now) => {
		retry(id, at, statusCode, error, now);
		metrics.observeDeliveryAttempt('retry_scheduled');
	};
}
