import { Writable } from 'node:stream';
import { ensureOperatorToken } from '../../server/src/accounts/operator-token';
import { loadConfig } from '../../server/src/config';
import { createLogger, prettyDestination } from '../../server/src/logger';
import { PHONE, createTestGateway, listen, sendBody, type TestGateway } from '../helpers/gateway';

/** One sample of the Prometheus text, e.g. metric('whatsapp_gateway_sends_total', { outcome: 'sent', code: 'none' }). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
	const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
	for (const line of text.split('\n')) {
		if (line.startsWith('#')) continue;
		const match = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
		if (!match || match[1] !== name) continue;
		const present = (match[2] ?? '').split(',').filter(Boolean);
		if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(match[3]);
	}
	return undefined;
}

describe('/metrics', () => {
	let gw: TestGateway;
	let operatorToken: string;
	beforeEach(() => {
		gw = createTestGateway({ account: { dailyLimit: 3, recipientRatePerMinute: 1000, instanceRatePerMinute: 1000 } });
		operatorToken = ensureOperatorToken(gw.gateway.accounts, undefined)!;
	});
	afterEach(async () => {
		await gw.gateway.deliveries.stop();
		gw.close();
	});

	const scrape = async () => {
		const res = await gw.http.get('/metrics').set('Authorization', `Bearer ${operatorToken}`);
		expect(res.status).toBe(200);
		expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
		return res.text;
	};

	it('needs the operator token', async () => {
		for (const authorization of [undefined, `Bearer ${gw.apiKey}`, `Bearer ${operatorToken}x`]) {
			const req = gw.http.get('/metrics');
			const res = await (authorization ? req.set('Authorization', authorization) : req);
			expect(res.status).toBe(401);
			expect(res.body.error).toBe('invalid_admin_token');
		}
	});

	it('counts sends by outcome and code, quota refusals, replays and provider latency as sends happen', async () => {
		const before = await scrape();
		expect(sample(before, 'whatsapp_gateway_sends_total', { outcome: 'sent', code: 'none' })).toBe(0);
		expect(sample(before, 'whatsapp_gateway_quota_refusals_total', { period: 'daily' })).toBe(0);

		for (let i = 0; i < 3; i += 1) {
			const res = await gw.send(sendBody({ message: `Your order #${i} has shipped.` }), {
				'Idempotency-Key': `order-${i}`,
			});
			expect(res.status).toBe(200);
		}
		expect(
			(await gw.send(sendBody({ message: 'Your order #0 has shipped.' }), { 'Idempotency-Key': 'order-0' })).status,
		).toBe(200);
		expect((await gw.send(sendBody({ message: 'Your order #9 has shipped.' }))).status).toBe(429);
		expect((await gw.send(sendBody({ phone: 'not a phone' }))).status).toBe(422);
		expect((await gw.send('{"broken"', {})).status).toBe(400);
		const unauthorized = await gw.http.post('/api/send-message').set('Content-Type', 'application/json').send('{}');
		expect(unauthorized.status).toBe(401);

		const after = await scrape();
		expect(sample(after, 'whatsapp_gateway_sends_total', { outcome: 'sent', code: 'none' })).toBe(3);
		expect(sample(after, 'whatsapp_gateway_sends_total', { outcome: 'replayed', code: 'none' })).toBe(1);
		expect(
			sample(after, 'whatsapp_gateway_sends_total', { outcome: 'refused', code: 'daily_message_limit_exceeded' }),
		).toBe(1);
		expect(sample(after, 'whatsapp_gateway_sends_total', { outcome: 'refused', code: 'validation_error' })).toBe(1);
		expect(sample(after, 'whatsapp_gateway_sends_total', { outcome: 'refused', code: 'invalid_json' })).toBe(1);
		expect(sample(after, 'whatsapp_gateway_sends_total', { outcome: 'refused', code: 'invalid_api_key' })).toBe(1);
		expect(sample(after, 'whatsapp_gateway_quota_refusals_total', { period: 'daily' })).toBe(1);
		expect(sample(after, 'whatsapp_gateway_quota_refusals_total', { period: 'monthly' })).toBe(0);
		expect(
			sample(after, 'whatsapp_gateway_provider_request_duration_seconds_count', {
				provider: 'sandbox',
				operation: 'sendText',
				outcome: 'ok',
			}),
		).toBe(3);
	});

	it('counts provider failures as failed sends and provider errors', async () => {
		gw.close();
		gw = createTestGateway({ sandbox: { failNumbers: [PHONE] } });
		operatorToken = ensureOperatorToken(gw.gateway.accounts, undefined)!;
		expect((await gw.send(sendBody())).status).toBe(502);
		const text = await scrape();
		expect(sample(text, 'whatsapp_gateway_sends_total', { outcome: 'failed', code: 'gateway_send_failed' })).toBe(1);
		expect(
			sample(text, 'whatsapp_gateway_provider_request_duration_seconds_count', {
				provider: 'sandbox',
				operation: 'sendText',
				outcome: 'error',
			}),
		).toBe(1);
	});

	it('reads outbox depth and delivery lag from the database, and counts delivery attempts', async () => {
		const receiver = await listen((_req, res) => res.writeHead(204).end());
		try {
			const created = await gw.http
				.post('/api/webhooks')
				.set({ Authorization: `Bearer ${gw.apiKey}`, 'Content-Type': 'application/json' })
				.send({ destination_url: `${receiver.url}/hook`, events: ['message.sent'] });
			expect(created.status).toBe(201);
			for (let i = 0; i < 2; i += 1)
				expect((await gw.send(sendBody({ message: `Ticket ${i} is resolved.` }))).status).toBe(200);
			gw.clock.advance(7_000);

			const waiting = await scrape();
			expect(sample(waiting, 'whatsapp_gateway_outbox_pending_deliveries')).toBe(2);
			expect(sample(waiting, 'whatsapp_gateway_outbox_due_deliveries')).toBe(2);
			expect(sample(waiting, 'whatsapp_gateway_delivery_lag_seconds')).toBe(7);
			expect(sample(waiting, 'whatsapp_gateway_delivery_attempts_total', { result: 'succeeded' })).toBe(0);

			gw.gateway.deliveries.start();
			const deadline = Date.now() + 10_000;
			let text = waiting;
			while (sample(text, 'whatsapp_gateway_delivery_attempts_total', { result: 'succeeded' }) !== 2) {
				if (Date.now() > deadline) throw new Error(`deliveries did not finish:\n${text}`);
				await new Promise((resolve) => setTimeout(resolve, 20));
				text = await scrape();
			}
			expect(sample(text, 'whatsapp_gateway_outbox_pending_deliveries')).toBe(0);
			expect(sample(text, 'whatsapp_gateway_delivery_lag_seconds')).toBe(0);
			expect(sample(text, 'whatsapp_gateway_delivery_attempts_total', { result: 'retry_scheduled' })).toBe(0);
		} finally {
			await gw.gateway.deliveries.stop();
			await receiver.close();
		}
	});
});

describe('/healthz and /readyz', () => {
	let gw: TestGateway;
	beforeEach(() => {
		gw = createTestGateway();
	});
	afterEach(() => gw.close());

	it('are healthy with a writable database; ready only once the delivery worker runs, not while stopping', async () => {
		const live = await gw.http.get('/healthz');
		expect(live.status).toBe(200);
		expect(live.body).toEqual({ success: true, status: 'ok', checks: { database: { ok: true } } });
		const notStarted = await gw.http.get('/readyz');
		expect(notStarted.status).toBe(503);
		expect(notStarted.body.checks.delivery_worker).toEqual({ ok: false, error: 'not running' });

		gw.gateway.health.deliveryWorkerStarted();
		const ready = await gw.http.get('/readyz');
		expect(ready.status).toBe(200);
		expect(ready.body).toEqual({
			success: true,
			status: 'ok',
			checks: { database: { ok: true }, delivery_worker: { ok: true } },
		});

		gw.gateway.health.shuttingDown();
		const stopping = await gw.http.get('/readyz');
		expect(stopping.status).toBe(503);
		expect(stopping.body.checks.delivery_worker).toEqual({ ok: false, error: 'shutting down' });
	});

	it('go unhealthy when the database cannot be written, and recover when it can again', async () => {
		gw.gateway.health.deliveryWorkerStarted();
		gw.gateway.db.pragma('query_only = ON');
		for (const path of ['/healthz', '/readyz']) {
			const res = await gw.http.get(path);
			expect(res.status).toBe(503);
			expect(res.body.success).toBe(false);
			expect(res.body.status).toBe('unavailable');
			expect(res.body.checks.database.ok).toBe(false);
			expect(res.body.checks.database.error).toMatch(/^cannot write: .*readonly/i);
		}
		gw.gateway.db.pragma('query_only = OFF');
		expect((await gw.http.get('/healthz')).status).toBe(200);
	});
});

describe('log format', () => {
	it('GATEWAY_LOG_FORMAT is auto unless set to pretty or json; anything else stops the start', () => {
		expect(loadConfig({}).logFormat).toBe('auto');
		expect(loadConfig({ GATEWAY_LOG_FORMAT: 'json' }).logFormat).toBe('json');
		expect(loadConfig({ GATEWAY_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
		expect(() => loadConfig({ GATEWAY_LOG_FORMAT: 'fancy' })).toThrow(/GATEWAY_LOG_FORMAT/);
	});

	it('pretty lines are readable and still redacted', () => {
		let output = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				output += chunk.toString();
				done();
			},
		});
		const logger = createLogger('info', prettyDestination(sink, false));
		logger.info({ port: 3000, apiKey: 'wg_live_secret' }, 'gateway listening');
		expect(output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway listening \{.*"port":3000/);
		expect(output).not.toContain('wg_live_secret');
		expect(output).toContain('[redacted]');
		expect(() => JSON.parse(output)).toThrow();
	});
});
