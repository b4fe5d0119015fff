import { SIGNATURE_HEADERS_LOWER, verifySignature } from '../../contract/src/signature';
import { Gateway } from '../../server/src/gateway';
import { ManualClock } from '../helpers/clock';
import { PHONE, listen, sendBody } from '../helpers/gateway';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { seedVerifyWebhookSignature } from '../helpers/seed-verifier';

const ADMIN_TOKEN = 'operator-token-for-tests-0123456789';
const SCHEDULE = [0, 150, 150, 150];

interface Harness {
	gateway: Gateway;
	/** The gateway's clock: retries come due only when the test moves it. */
	clock: ManualClock;
	url: string;
	apiKey: string;
	instanceId: string;
	accountId: number;
	receiver: Receiver;
	secret: string;
	webhookId: string;
	inbound: (from: string, text: string, id?: string) => Promise<Response>;
	send: (body: Record<string, unknown>) => Promise<{ status: number; body: Record<string, unknown> }>;
	close: () => Promise<void>;
}

/**
 * A gateway listening on loopback with its delivery worker running, and a receiver subscribed to everything.
 * The worker reads a manual clock: a retry is sent when the test moves the clock past its due time.
 */
async function harness(
	options: { events?: string[]; sandboxStatusDelayMs?: number; failNumbers?: string[] } = {},
): Promise<Harness> {
	const { SandboxProvider } = await import('../../server/src/providers/sandbox');
	const clock = new ManualClock(Date.now());
	const gateway = new Gateway({
		databasePath: ':memory:',
		adminToken: ADMIN_TOKEN,
		clock,
		sandbox: new SandboxProvider({ failNumbers: options.failNumbers }),
		delivery: { retryScheduleMs: SCHEDULE, timeoutMs: 2000 },
	});
	const account = gateway.accounts.create({ name: 'Events', recipientRatePerMinute: 1000 });
	const instance = gateway.instances.create({
		accountId: account.id,
		name: 'demo-support-line',
		displayName: 'Demo Support Line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const { key } = gateway.accounts.createKey(account.id);
	if (options.sandboxStatusDelayMs !== undefined) gateway.sandboxStatuses.start(options.sandboxStatusDelayMs);
	gateway.deliveries.start();
	const server = await listen(gateway.createApp().callback());
	const receiver = await startReceiver();
	const created = await fetch(`${server.url}/api/webhooks`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			destination_url: receiver.url,
			events: options.events ?? [
				'message.received',
				'message.sent',
				'message.failed',
				'recipient.opted_out',
				'message.delivered',
				'message.read',
				'message.status_updated',
			],
		}),
	});
	expect(created.status).toBe(201);
	const webhook = (await created.json()) as { webhook: { id: string }; signing_secret: string };
	return {
		gateway,
		clock,
		url: server.url,
		apiKey: key,
		instanceId: instance.id,
		accountId: account.id,
		receiver,
		secret: webhook.signing_secret,
		webhookId: webhook.webhook.id,
		inbound: (from, text, id) =>
			fetch(`${server.url}/sandbox/inbound`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
				body: JSON.stringify({ instance: 'demo-support-line', from, text, ...(id ? { id } : {}) }),
			}),
		send: async (body) => {
			const res = await fetch(`${server.url}/api/send-message`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
				body: JSON.stringify(body),
			});
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		},
		close: async () => {
			await server.close();
			await gateway.deliveries.stop();
			gateway.close();
			await receiver.close();
		},
	};
}

let h: Harness;
afterEach(async () => h?.close());

const deliveryRows = (g: Gateway) =>
	g.db.prepare('SELECT status, attempts, last_status_code FROM deliveries ORDER BY id').all();

/**
 * Lets the attempts under way finish and be recorded (their retries are scheduled from the clock as it is),
 * then moves the clock by `ms` and waits until every delivery due by then has been attempted and recorded.
 */
async function advance(h: Harness, ms: number): Promise<void> {
	await h.gateway.deliveries.idle();
	h.clock.advance(ms);
	await h.gateway.deliveries.idle();
}

describe('inbound messages reach customer webhooks, signed', () => {
	it('a simulated inbound message arrives as message.received with headers the seed verifier accepts', async () => {
		h = await harness();
		const res = await h.inbound('+966501234567', 'Hello, I need help with my order. مرحبا 👋');
		expect(res.status).toBe(200);
		await h.receiver.waitFor(1);
		const [delivery] = h.receiver.received;
		expect(delivery.body).toEqual({
			event: 'message.received',
			instance_id: h.instanceId,
			instance_name: 'Demo Support Line',
			timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
			from: '+966501234567',
			message_text: 'Hello, I need help with my order. مرحبا 👋',
			message_type: 'text',
			external_message_id: expect.stringMatching(/^sandbox-in\./),
		});
		const headers = delivery.headers;
		expect(headers[SIGNATURE_HEADERS_LOWER.event]).toBe('message.received');
		expect(headers[SIGNATURE_HEADERS_LOWER.delivery]).toMatch(/^evt_/);
		const timestamp = String(headers[SIGNATURE_HEADERS_LOWER.timestamp]);
		expect(Number(timestamp)).toBe(Math.floor(h.clock.now() / 1000));
		const signature = String(headers[SIGNATURE_HEADERS_LOWER.signature]);
		expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
		// Byte for byte over the raw body the receiver got, as the seed's Python verifier does.
		expect(seedVerifyWebhookSignature(timestamp, delivery.raw, signature, h.secret)).toBe(true);
		expect(seedVerifyWebhookSignature(timestamp, delivery.raw, signature, 'another secret')).toBe(false);
		expect(
			verifySignature({
				secret: h.secret,
				timestamp,
				rawBody: delivery.raw,
				signature,
				nowSeconds: Math.floor(h.clock.now() / 1000),
			}),
		).toEqual({ valid: true });
	});

	it('a provider retry with the same message id produces one event', async () => {
		h = await harness();
		const first = (await (await h.inbound(PHONE, 'Where is my order?', 'wamid.dup-1')).json()) as {
			duplicate: boolean;
		};
		const second = (await (await h.inbound(PHONE, 'Where is my order?', 'wamid.dup-1')).json()) as {
			duplicate: boolean;
		};
		expect([first.duplicate, second.duplicate]).toEqual([false, true]);
		await h.receiver.waitFor(1);
		await h.gateway.deliveries.idle();
		expect(h.receiver.received).toHaveLength(1);
		expect(h.gateway.db.prepare('SELECT COUNT(*) AS n FROM inbound_messages').get()).toEqual({ n: 1 });
	});

	it('updates the conversation window for the sender', async () => {
		h = await harness();
		await h.inbound(PHONE, 'hi');
		expect(h.gateway.inbound.lastInboundAt(h.instanceId, PHONE)).toBe(h.clock.now());
	});
});

describe('opt-out and opt-in keywords', () => {
	it('STOP emits recipient.opted_out, then sends answer 403; START allows them again', async () => {
		h = await harness();
		await h.inbound(PHONE, '  Stop! ');
		await h.receiver.waitFor(2);
		const optedOut = h.receiver.events('recipient.opted_out');
		expect(optedOut).toHaveLength(1);
		expect(optedOut[0].body).toEqual({
			event: 'recipient.opted_out',
			instance_id: h.instanceId,
			instance_name: 'Demo Support Line',
			from: PHONE,
			reason: 'recipient_requested_stop',
			message_text: '  Stop! ',
			timestamp: expect.any(String),
		});
		expect(h.receiver.events('message.received')).toHaveLength(1);
		const refused = await h.send(sendBody());
		expect(refused.status).toBe(403);
		expect(refused.body).toMatchObject({ error: 'recipient_suppressed', details: { source: 'keyword' } });

		await h.inbound(PHONE, 'START');
		expect((await h.send(sendBody())).status).toBe(200);
	});

	it('an Arabic keyword written with diacritics and tatweel opts out too', async () => {
		h = await harness();
		await h.inbound(PHONE, 'إِيقَـــاف');
		await h.receiver.waitFor(2);
		expect(h.receiver.events('recipient.opted_out')).toHaveLength(1);
		expect((await h.send(sendBody())).status).toBe(403);
	});

	it('a sentence containing STOP is not an opt-out; START never lifts an operator suppression', async () => {
		h = await harness();
		await h.inbound(PHONE, 'please do not stop sending my receipts');
		h.gateway.suppressions.add(h.accountId, '+966501234568', 'complaint', 'manual');
		await h.inbound('+966501234568', 'START');
		await h.receiver.waitFor(2);
		await h.gateway.deliveries.idle();
		expect(h.receiver.events('recipient.opted_out')).toHaveLength(0);
		expect((await h.send(sendBody())).status).toBe(200);
		expect((await h.send(sendBody({ phone: '+966501234568' }))).body).toMatchObject({
			error: 'recipient_suppressed',
			details: { source: 'manual' },
		});
	});

	it('uses the account’s own keyword lists when set', async () => {
		h = await harness();
		h.gateway.inbound.setKeywordLists(h.accountId, ['BASTA'], null);
		await h.inbound(PHONE, 'STOP');
		await h.inbound('+966501234568', 'basta');
		await h.receiver.waitFor(3);
		await h.gateway.deliveries.idle();
		expect(h.receiver.events('recipient.opted_out').map((item) => item.body.from)).toEqual(['+966501234568']);
	});
});

describe('send events', () => {
	it('message.sent, then message.delivered and message.read from the sandbox, each with message.status_updated', async () => {
		h = await harness({ sandboxStatusDelayMs: 20 });
		const sent = await h.send(sendBody());
		expect(sent.status).toBe(200);
		await h.receiver.waitFor(5);
		// Deliveries run concurrently: compared as a multiset, not in arrival order.
		const types = h.receiver.received.map((item) => String(item.body.event)).sort();
		expect(types).toEqual([
			'message.delivered',
			'message.read',
			'message.sent',
			'message.status_updated',
			'message.status_updated',
		]);
		const statuses = h.receiver.events('message.status_updated').map((item) => item.body.status);
		expect(new Set(statuses)).toEqual(new Set(['delivered', 'read']));
		// Recorded (not delivered) in the order the message moved.
		const recorded = h.gateway.db.prepare('SELECT type FROM events ORDER BY rowid').pluck().all();
		expect(recorded).toEqual([
			'message.sent',
			'message.status_updated',
			'message.delivered',
			'message.status_updated',
			'message.read',
		]);
		expect(h.receiver.events('message.sent')[0].body).toEqual({
			event: 'message.sent',
			instance_id: h.instanceId,
			instance_name: 'Demo Support Line',
			to: PHONE,
			message_id: sent.body.message_id,
			message_purpose: 'transactional',
			timestamp: expect.any(String),
		});
		expect(h.receiver.events('message.read')[0].body).toMatchObject({
			from: PHONE,
			external_message_id: sent.body.message_id,
			status: 'read',
		});
		const status = await fetch(`${h.url}/api/messages/${sent.body.log_id}`, {
			headers: { Authorization: `Bearer ${h.apiKey}` },
		});
		expect(((await status.json()) as { message: { status: string } }).message.status).toBe('read');
	});

	it('message.failed carries error, error_code and error_message', async () => {
		h = await harness({ failNumbers: [PHONE] });
		expect((await h.send(sendBody())).status).toBe(502);
		await h.receiver.waitFor(1);
		expect(h.receiver.received[0].body).toMatchObject({
			event: 'message.failed',
			to: PHONE,
			message_purpose: 'transactional',
			error_code: 'gateway_send_failed',
			error: expect.stringMatching(/^The message passed responsible messaging checks/),
			error_message: expect.stringMatching(/^The message passed responsible messaging checks/),
		});
	});

	it('only the subscribed event types are delivered', async () => {
		h = await harness({ events: ['recipient.opted_out'] });
		await h.send(sendBody());
		await h.inbound(PHONE, 'hello');
		await h.inbound(PHONE, 'STOP');
		await h.receiver.waitFor(1);
		await h.gateway.deliveries.idle();
		expect(h.receiver.received.map((item) => item.body.event)).toEqual(['recipient.opted_out']);
	});
});

describe('delivery', () => {
	it('a receiver that fails then recovers gets the event on a retry, with the same delivery id', async () => {
		h = await harness();
		h.receiver.reply({ status: 500 }, { status: 503 });
		await h.inbound(PHONE, 'hello');
		await h.receiver.waitFor(1);
		await h.gateway.deliveries.idle();
		// Each retry waits for its place in the schedule (150 ms here), and not a moment less.
		for (const attempts of [2, 3]) {
			await advance(h, 149);
			expect(h.receiver.received).toHaveLength(attempts - 1);
			await advance(h, 1);
			expect(h.receiver.received).toHaveLength(attempts);
		}
		const ids = h.receiver.received.map((item) => item.headers[SIGNATURE_HEADERS_LOWER.delivery]);
		expect(new Set(ids).size).toBe(1);
		await h.gateway.deliveries.idle();
		expect(deliveryRows(h.gateway)).toEqual([{ status: 'succeeded', attempts: 3, last_status_code: 200 }]);
	});

	it('honours Retry-After', async () => {
		h = await harness();
		h.receiver.reply({ status: 429, headers: { 'Retry-After': '1' } });
		await h.inbound(PHONE, 'hello');
		await h.receiver.waitFor(1);
		await h.gateway.deliveries.idle();
		// The schedule says 150 ms; the receiver asked for a second.
		await advance(h, 999);
		expect(h.receiver.received).toHaveLength(1);
		await advance(h, 1);
		expect(h.receiver.received).toHaveLength(2);
	});

	it('410 Gone disables the subscription', async () => {
		h = await harness();
		h.receiver.reply({ status: 410 });
		await h.inbound(PHONE, 'hello');
		await h.receiver.waitFor(1);
		await h.gateway.deliveries.idle();
		expect(h.gateway.webhooks.get(h.webhookId)).toMatchObject({
			enabled: false,
			disabledReason: 'the destination answered 410 Gone',
		});
		await h.inbound(PHONE, 'hello again');
		await h.gateway.deliveries.idle();
		expect(h.receiver.received).toHaveLength(1);
	});

	it('a redirect is not followed and counts as a failure', async () => {
		h = await harness();
		h.receiver.reply({ status: 302, headers: { Location: `${h.receiver.base}/elsewhere` } });
		await h.inbound(PHONE, 'hello');
		await h.receiver.waitFor(1);
		await advance(h, 150);
		await h.receiver.waitFor(2);
		// Both attempts went to the subscribed URL: the Location was never visited.
		expect(h.receiver.received.map((item) => item.path)).toEqual(['/hook', '/hook']);
		expect(h.receiver.received.every((item) => item.body.event === 'message.received')).toBe(true);
		await h.gateway.deliveries.idle();
		const [row] = h.gateway.webhooks.deliveries({});
		expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
		expect(h.gateway.db.prepare('SELECT COUNT(*) AS n FROM deliveries').get()).toEqual({ n: 1 });
	});

	it('exhausted deliveries are marked failed and can be redelivered', async () => {
		h = await harness();
		h.receiver.reply({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
		await h.inbound(PHONE, 'hello');
		await h.receiver.waitFor(1);
		for (let retry = 0; retry < 3; retry += 1) await advance(h, 150);
		expect(h.receiver.received).toHaveLength(4);
		await h.gateway.deliveries.idle();
		const [failed] = h.gateway.webhooks.deliveries({ status: 'failed' });
		expect(failed).toMatchObject({ attempts: 4, last_status_code: 500, last_error: 'HTTP 500' });
		// Redelivering wakes the worker itself (no wait for its next poll).
		h.gateway.webhooks.redeliver(failed.id);
		await h.receiver.waitFor(5);
		await h.gateway.deliveries.idle();
		expect(h.gateway.webhooks.deliveries({})[0]).toMatchObject({ status: 'succeeded' });
		expect(h.receiver.received[4].headers[SIGNATURE_HEADERS_LOWER.delivery]).toBe(
			h.receiver.received[0].headers[SIGNATURE_HEADERS_LOWER.delivery],
		);
	});
});

describe('attempt timeout', () => {
	it('a receiver that never answers is given up on after the timeout and retried on the schedule', async () => {
		const hung: import('node:http').ServerResponse[] = [];
		const silent = await listen((_req, res) => hung.push(res));
		const clock = new ManualClock(Date.now());
		const gateway = new Gateway({
			databasePath: ':memory:',
			clock,
			delivery: { retryScheduleMs: [0, 100], timeoutMs: 300 },
		});
		try {
			const account = gateway.accounts.create({ name: 'Slow receiver' });
			const instance = gateway.instances.create({
				accountId: account.id,
				name: 'line',
				provider: 'sandbox',
				connectionState: 'connected',
			});
			await gateway.webhooks.create({
				accountId: account.id,
				destinationUrl: `${silent.url}/hook`,
				events: ['message.received'],
			});
			gateway.deliveries.start();
			const started = Date.now();
			await gateway.inbound.receiveMessage({
				instanceId: instance.id,
				providerMessageId: 'wamid.slow',
				from: PHONE,
				text: 'hello',
			});
			await gateway.deliveries.idle();
			expect(gateway.webhooks.deliveries({})[0]).toMatchObject({
				status: 'pending',
				attempts: 1,
				last_error: 'no answer within 300 ms',
			});
			clock.advance(100);
			await gateway.deliveries.idle();
			// The attempt timeout is real time: two attempts took at least two timeouts (a lower bound cannot flake).
			expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 300);
			expect(hung).toHaveLength(2);
			expect(gateway.webhooks.deliveries({})[0]).toMatchObject({
				status: 'failed',
				attempts: 2,
				last_error: 'no answer within 300 ms',
			});
		} finally {
			await gateway.deliveries.stop();
			gateway.close();
			await silent.close();
		}
	});
});

describe('fairness between subscriptions', () => {
	it('a dead receiver with a backlog does not hold up another subscription’s events', async () => {
		const hung: import('node:http').ServerResponse[] = [];
		let deadHoldsThree: () => void = () => undefined;
		const deadReached = new Promise<void>((resolve) => (deadHoldsThree = resolve));
		const dead = await listen((_req, res) => {
			if (hung.push(res) === 3) deadHoldsThree();
		});
		const healthy = await startReceiver();
		const gateway = new Gateway({
			databasePath: ':memory:',
			delivery: { retryScheduleMs: [0], timeoutMs: 60_000, concurrency: 4 },
		});
		try {
			const slow = gateway.accounts.create({ name: 'Slow tenant' });
			const slowLine = gateway.instances.create({
				accountId: slow.id,
				name: 'slow',
				provider: 'sandbox',
				connectionState: 'connected',
			});
			await gateway.webhooks.create({
				accountId: slow.id,
				destinationUrl: `${dead.url}/hook`,
				events: ['message.received'],
			});
			const fine = gateway.accounts.create({ name: 'Healthy tenant' });
			const fineLine = gateway.instances.create({
				accountId: fine.id,
				name: 'fine',
				provider: 'sandbox',
				connectionState: 'connected',
			});
			await gateway.webhooks.create({ accountId: fine.id, destinationUrl: healthy.url, events: ['message.received'] });
			for (let i = 0; i < 40; i += 1) {
				await gateway.inbound.receiveMessage({
					instanceId: slowLine.id,
					providerMessageId: `wamid.slow-${i}`,
					from: PHONE,
					text: `backlog ${i}`,
				});
			}
			gateway.deliveries.start();
			await deadReached; // the dead receiver holds three of the four slots
			await gateway.inbound.receiveMessage({
				instanceId: fineLine.id,
				providerMessageId: 'wamid.fine',
				from: PHONE,
				text: 'hello',
			});
			await healthy.waitFor(1, 20_000);
			// It arrived through the fourth slot, while every attempt at the dead receiver was still hanging: none
			// has ended (the attempt timeout is a minute), so nothing had to give way for it.
			expect(hung.length).toBe(3);
			expect(gateway.webhooks.deliveries({ accountId: slow.id }).every((delivery) => delivery.attempts === 0)).toBe(
				true,
			);
		} finally {
			for (const res of hung) res.destroy();
			await gateway.deliveries.stop();
			gateway.close();
			await dead.close();
			await healthy.close();
		}
	});
});

describe('webhook subscriptions API', () => {
	it('shows the secret once, lists only the account’s own, refuses bad input, deletes', async () => {
		h = await harness();
		const auth = { Authorization: `Bearer ${h.apiKey}` };
		const list = (await (await fetch(`${h.url}/api/webhooks`, { headers: auth })).json()) as {
			webhooks: Record<string, unknown>[];
		};
		expect(list.webhooks).toEqual([
			expect.objectContaining({ id: h.webhookId, destination_url: h.receiver.url, enabled: true }),
		]);
		expect(JSON.stringify(list)).not.toContain(h.secret);

		const other = h.gateway.accounts.create({ name: 'Other' });
		const otherKey = h.gateway.accounts.createKey(other.id).key;
		const foreign = await fetch(`${h.url}/api/webhooks/${h.webhookId}`, {
			headers: { Authorization: `Bearer ${otherKey}` },
		});
		expect(foreign.status).toBe(404);
		expect(
			(
				(await (await fetch(`${h.url}/api/webhooks`, { headers: { Authorization: `Bearer ${otherKey}` } })).json()) as {
					webhooks: unknown[];
				}
			).webhooks,
		).toEqual([]);

		const bad = await fetch(`${h.url}/api/webhooks`, {
			method: 'POST',
			headers: { ...auth, 'Content-Type': 'application/json' },
			body: JSON.stringify({
				destination_url: 'ftp://example.com/x',
				events: ['message.received', 'message.exploded'],
				instance_id: 'nope',
			}),
		});
		expect(bad.status).toBe(422);
		expect(((await bad.json()) as { details: { fields: Record<string, string> } }).details.fields).toEqual({
			destination_url: expect.any(String),
			events: 'has unknown event types: message.exploded',
			instance_id: 'is not an instance of this account',
		});

		const metadata = await fetch(`${h.url}/api/webhooks`, {
			method: 'POST',
			headers: { ...auth, 'Content-Type': 'application/json' },
			body: JSON.stringify({
				destination_url: 'http://169.254.169.254/latest/meta-data',
				events: ['message.received'],
			}),
		});
		expect(metadata.status).toBe(422);

		const deleted = await fetch(`${h.url}/api/webhooks/${h.webhookId}`, { method: 'DELETE', headers: auth });
		expect(await deleted.json()).toEqual({ success: true, deleted: true, id: h.webhookId });
		expect((await fetch(`${h.url}/api/webhooks/${h.webhookId}`, { headers: auth })).status).toBe(404);
	});

	it('the sandbox inbound route needs the operator token', async () => {
		h = await harness();
		const res = await fetch(`${h.url}/sandbox/inbound`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${h.apiKey}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ instance: 'demo-support-line', from: PHONE, text: 'hi' }),
		});
		expect(res.status).toBe(401);
		expect(await res.json()).toMatchObject({ error: 'invalid_admin_token' });
	});
});

describe('private destinations', () => {
	it('loopback is refused when the multi-tenant switch is on', async () => {
		const gateway = new Gateway({ databasePath: ':memory:', delivery: { allowPrivate: false } });
		const account = gateway.accounts.create({ name: 'Tenant' });
		await expect(
			gateway.webhooks.create({
				accountId: account.id,
				destinationUrl: 'http://127.0.0.1:9/hook',
				events: ['message.received'],
			}),
		).rejects.toThrow(/127\.0\.0\.1/);
		gateway.close();
	});
});
