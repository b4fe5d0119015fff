import http from 'node:http';
import ipaddr from 'ipaddr.js';
import fixtures from '../fixtures/reference-threecx-section5.json';
import { verifySignature } from '../../contract/src/signature';
import { listen } from '../helpers/gateway';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { createThreecxGateway, CUSTOMER, type ThreecxTestGateway } from '../helpers/threecx';

const ADMIN_TOKEN = 'operator-token-for-3cx-tests-0123456789';
const HMAC_SECRET = 'hmac-secret-for-forwarding-0123';

let t: ThreecxTestGateway;
let receiver: Receiver | undefined;
afterEach(async () => {
	await t?.gateway.deliveries.stop();
	await receiver?.close();
	receiver = undefined;
	t?.close();
});

/** A raw request on its own socket: resolves with the answer's status and how many body bytes had been written by then. */
function rawPost(url: string, headers: Record<string, string | number>, chunks: Buffer[], options: { end: boolean }) {
	return new Promise<{ status: number; body: string; writtenBeforeAnswer: number }>((resolve, reject) => {
		let written = 0;
		const request = http.request(url, { method: 'POST', headers }, (response) => {
			const writtenBeforeAnswer = written;
			let body = '';
			response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
			response.on('end', () => {
				request.destroy();
				resolve({ status: response.statusCode ?? 0, body, writtenBeforeAnswer });
			});
		});
		request.on('error', (error) => (written > 0 ? undefined : reject(error)));
		for (const chunk of chunks) {
			request.write(chunk);
			written += chunk.length;
		}
		if (options.end) request.end();
	});
}

describe('the 256 KB limit', () => {
	it('256 KB + 1 byte announced by Content-Length is 413 before the rest of the body is sent', async () => {
		t = await createThreecxGateway();
		const server = await listen(t.gateway.createApp().callback());
		try {
			const url = `${server.url}/integrations/3cx/webhook/${t.integrationId}`;
			const headers = { 'Content-Type': 'application/json', 'X-WhatsApp-Gateway-3CX-Secret': t.secret };
			// 1 KB of a 256 KB + 1 byte body is written, the rest never is: the answer cannot wait for it.
			const announced = await rawPost(
				url,
				{ ...headers, 'Content-Length': 256 * 1024 + 1 },
				[Buffer.alloc(1024, 0x20)],
				{ end: false },
			);
			expect(announced.status).toBe(413);
			expect(announced.writtenBeforeAnswer).toBe(1024);
			expect(JSON.parse(announced.body)).toMatchObject({
				error: 'payload_too_large',
				details: { limit_bytes: 262144 },
			});

			// Chunked, with no length announced: refused once the 262,145th byte arrives, with the request still open.
			const chunked = await rawPost(
				url,
				{ ...headers, 'Transfer-Encoding': 'chunked' },
				[Buffer.alloc(256 * 1024, 0x20), Buffer.from(' ')],
				{ end: false },
			);
			expect(chunked.status).toBe(413);

			// Exactly 256 KB is read (and is then judged as JSON).
			const body = JSON.stringify({ event_type: 'test', padding: '' });
			const exact = Buffer.from(body.replace('""', `"${'x'.repeat(256 * 1024 - body.length)}"`));
			expect(exact.length).toBe(256 * 1024);
			const accepted = await rawPost(url, { ...headers, 'Content-Length': exact.length }, [exact], { end: true });
			expect([accepted.status, JSON.parse(accepted.body).action]).toEqual([200, 'received']);
		} finally {
			await server.close();
		}
	});

	it('a wrong secret is the generic 401 whatever the size: nothing is read before authentication', async () => {
		t = await createThreecxGateway();
		const server = await listen(t.gateway.createApp().callback());
		try {
			const url = `${server.url}/integrations/3cx/webhook/${t.integrationId}`;
			const res = await rawPost(
				url,
				{ 'X-WhatsApp-Gateway-3CX-Secret': 'wrong', 'Content-Length': 10 * 1024 * 1024 },
				[Buffer.alloc(10)],
				{ end: false },
			);
			expect([res.status, JSON.parse(res.body).error]).toEqual([401, 'invalid_3cx_webhook']);
		} finally {
			await server.close();
		}
	});
});

describe('text limits count characters (code points), as the send API does', () => {
	it('an outbound_message of 4,096 emoji is sent; 4,097 are refused', async () => {
		t = await createThreecxGateway({ account: { threecx: true } });
		await t.customerWrites();
		const outbound = (text: string, id: string) =>
			t.post({
				event_type: 'outbound_message',
				customer_phone: CUSTOMER,
				message_text: text,
				message_purpose: 'support',
				external_message_id: id,
			});
		const fits = await outbound('😀'.repeat(4096), 'emoji-4096');
		expect([fits.status, fits.body.status]).toEqual([200, 'processed']);
		expect(t.providerSends.map((send) => [...send.text].length)).toEqual([4096]);
		const over = await outbound('😀'.repeat(4097), 'emoji-4097');
		expect([over.status, over.body.error, over.body.details]).toEqual([
			400,
			'invalid_3cx_event',
			{ fields: { message_text: 'must be at most 4096 characters' } },
		]);
	});
	it('a template of 1,024 emoji is saved; 1,025 are refused', async () => {
		t = await createThreecxGateway({ account: { threecx: true } });
		const withTemplate = (text: string) =>
			t.gateway.threecx.integrations.update(t.integrationId, { templates: { missed_call: { text } } });
		await expect(withTemplate('📞'.repeat(1024))).resolves.toBeDefined();
		await expect(withTemplate('📞'.repeat(1025))).rejects.toThrow('the missed_call template must be 1-1024 characters');
	});
});

describe('authentication does the same work whatever was wrong', () => {
	it('an unknown id, an integration without an allowlist and one with parse the address once and no range', async () => {
		t = await createThreecxGateway({ account: { threecx: true } });
		const { integration: listed } = await t.gateway.threecx.integrations.create(t.accountId, {
			instance: 'demo-support-line',
			businessName: 'Acme Support',
			ipAllowlist: ['203.0.113.0/24', '2001:db8::/32', '10.0.0.0/8'],
		});
		const wrongSecret = { 'X-WhatsApp-Gateway-3CX-Secret': 'not-the-secret' };
		const attempts = { unknown: 999_999, open: t.integrationId, listed: listed.id };
		// The first request of each may fill caches; the ones after are what a prober would time.
		for (const id of Object.values(attempts)) await t.post({ event_type: 'test' }, wrongSecret, id);
		const processSpy = jest.spyOn(ipaddr, 'process');
		const parseCidrSpy = jest.spyOn(ipaddr, 'parseCIDR');
		try {
			const work: Record<string, [number, number, number]> = {};
			for (const [name, id] of Object.entries(attempts)) {
				processSpy.mockClear();
				parseCidrSpy.mockClear();
				const answer = await t.post({ event_type: 'test' }, wrongSecret, id);
				work[name] = [answer.status, processSpy.mock.calls.length, parseCidrSpy.mock.calls.length];
			}
			expect(work).toEqual({ unknown: [401, 1, 0], open: [401, 1, 0], listed: [401, 1, 0] });
		} finally {
			processSpy.mockRestore();
			parseCidrSpy.mockRestore();
		}
	});
});

describe('Generic SMS provider route (agents replying from the 3CX inbox)', () => {
	const agent = fixtures.generic_sms_in;

	it('{from, to, text} with Authorization: Bearer <secret> is an outbound_message to "to"', async () => {
		t = await createThreecxGateway();
		await t.customerWrites(agent.to);
		const res = await t.http
			.post(`/integrations/3cx/sms/${t.integrationId}`)
			.set({ Authorization: `Bearer ${t.secret}`, 'Content-Type': 'application/json' })
			.send(JSON.stringify(agent));
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ event_type: 'outbound_message', action: 'sent', customer_phone: agent.to });
		expect(t.providerSends).toEqual([{ to: agent.to, text: 'Hello' }]);
		// The capitalized shape some adapters post (MessageRequest3Cx {From, To, Text}) reads the same.
		t.clock.advance(60_000);
		const capitalized = await t.http
			.post(`/integrations/3cx/sms/${t.integrationId}`)
			.set({ Authorization: `Bearer ${t.secret}` })
			.send(JSON.stringify({ From: agent.from, To: agent.to, Text: 'Second reply' }));
		expect(capitalized.body.action).toBe('sent');
	});

	it('the same generic 401 for a wrong or missing Bearer key, and the window still applies', async () => {
		t = await createThreecxGateway();
		const webhook401 = await t.post(fixtures.happy_path[0], { 'X-WhatsApp-Gateway-3CX-Secret': 'nope' });
		for (const authorization of ['Bearer nope', '', `Basic ${t.secret}`]) {
			const res = await t.http
				.post(`/integrations/3cx/sms/${t.integrationId}`)
				.set({ Authorization: authorization })
				.send(JSON.stringify(agent));
			expect([res.status, res.text]).toEqual([401, webhook401.text]);
		}
		const closed = await t.http
			.post(`/integrations/3cx/sms/${t.integrationId}`)
			.set({ Authorization: `Bearer ${t.secret}` })
			.send(JSON.stringify(agent));
		expect([closed.status, closed.body.error]).toEqual([403, 'conversation_window_closed']);
	});
});

describe('inbound forwarding to the 3CX destination, through the outbox', () => {
	it('a WhatsApp message on the integration instance is delivered, signed with the HMAC secret, in the seed schema', async () => {
		receiver = await startReceiver();
		t = await createThreecxGateway({ integration: { destinationUrl: receiver.url, hmacSecret: HMAC_SECRET } });
		t.gateway.deliveries.start();
		await t.customerWrites(CUSTOMER, 'I missed your call');
		await receiver.waitFor(1);
		const [delivery] = receiver.received;
		expect(delivery.body).toMatchObject({
			event: 'message.received',
			instance_id: t.instanceId,
			from: CUSTOMER,
			message_text: 'I missed your call',
		});
		const check = verifySignature({
			secret: HMAC_SECRET,
			timestamp: delivery.headers['x-whatsapp-gateway-timestamp'] as string,
			signature: delivery.headers['x-whatsapp-gateway-signature'] as string,
			rawBody: delivery.raw,
			nowSeconds: Math.floor(t.clock.now() / 1000),
		});
		expect(check).toEqual({ valid: true });
		// The subscription is the integration's: not a customer webhook the API lists or deletes.
		const listed = await t.http.get('/api/webhooks').set('Authorization', `Bearer ${t.apiKey}`);
		expect(listed.body.webhooks).toEqual([]);
		const integration = t.gateway.threecx.integrations.get(t.integrationId);
		expect(t.gateway.webhooks.find(integration.webhookId!)).toMatchObject({
			managedBy: `3cx:${t.integrationId}`,
			events: ['message.received'],
		});
		expect(() => t.gateway.webhooks.delete(integration.webhookId!)).toThrow(/managed by 3cx:/);
	});

	it('in the Generic SMS envelope 3CX expects, with the line number as "to"; switched off with the integration', async () => {
		receiver = await startReceiver();
		t = await createThreecxGateway({
			integration: {
				destinationUrl: receiver.url,
				destinationFormat: 'generic_sms',
				lineNumber: fixtures.generic_sms_in.from,
			},
		});
		t.gateway.deliveries.start();
		await t.customerWrites(CUSTOMER, 'Hello from WhatsApp');
		await receiver.waitFor(1);
		const [delivery] = receiver.received;
		const envelope = delivery.body as typeof fixtures.generic_sms_out_envelope;
		expect(Object.keys(envelope.data)).toEqual(Object.keys(fixtures.generic_sms_out_envelope.data));
		expect(envelope).toEqual({
			data: {
				event_type: 'message.received',
				id: expect.stringMatching(/^evt_/),
				occurred_at: '2026-09-15T10:30:00.000Z',
				record_type: 'event',
				payload: {
					direction: 'inbound',
					type: 'SMS',
					text: 'Hello from WhatsApp',
					received_at: '2026-09-15T10:30:00.000Z',
					from: { phone_number: CUSTOMER },
					to: [{ phone_number: fixtures.generic_sms_in.from }],
				},
			},
		});
		expect(delivery.headers['x-whatsapp-gateway-delivery']).toBe(envelope.data.id);

		await t.gateway.threecx.integrations.update(t.integrationId, { enabled: false });
		await t.customerWrites(CUSTOMER, 'Anyone there?');
		await t.gateway.deliveries.idle();
		expect(receiver.received).toHaveLength(1);
		await t.gateway.threecx.integrations.update(t.integrationId, { destinationUrl: null });
		expect(t.gateway.threecx.integrations.get(t.integrationId).webhookId).toBeNull();
		expect(t.gateway.webhooks.list(t.accountId)).toEqual([]);
	});
});

describe('forwarding disabled by the destination', () => {
	it('a 410 disables the forwarding; an unrelated change keeps it so, a new destination turns it back on', async () => {
		receiver = await startReceiver();
		t = await createThreecxGateway({ integration: { destinationUrl: receiver.url } });
		t.gateway.deliveries.start();
		receiver.reply({ status: 410 });
		await t.customerWrites(CUSTOMER, 'Hello?');
		await receiver.waitFor(1);
		await t.gateway.deliveries.idle();
		const webhookId = t.gateway.threecx.integrations.get(t.integrationId).webhookId!;
		expect(t.gateway.webhooks.find(webhookId)).toMatchObject({
			enabled: false,
			disabledReason: 'the destination answered 410 Gone',
		});
		await t.gateway.threecx.integrations.update(t.integrationId, { businessName: 'Acme Care' });
		expect(t.gateway.webhooks.find(webhookId)).toMatchObject({ enabled: false });
		await t.gateway.threecx.integrations.update(t.integrationId, { destinationUrl: `${receiver.base}/new-hook` });
		expect(t.gateway.webhooks.find(webhookId)).toMatchObject({
			enabled: true,
			destinationUrl: `${receiver.base}/new-hook`,
		});
	});
});

describe('operator API', () => {
	const auth = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

	it('creates (secret once), lists, shows, updates, rotates, lists events and deletes', async () => {
		t = await createThreecxGateway({ adminToken: ADMIN_TOKEN });
		const created = await t.http
			.post('/operator/3cx/integrations')
			.set(auth)
			.send(
				JSON.stringify({
					account_id: t.accountId,
					instance_id: 'demo-support-line',
					business_name: 'Acme',
					ip_allowlist: ['127.0.0.1'],
				}),
			);
		expect(created.status).toBe(201);
		const { integration, secret } = created.body;
		expect(secret).toMatch(/^tcx_/);
		expect(integration).toMatchObject({
			account_id: t.accountId,
			instance_id: t.instanceId,
			hmac_enabled: false,
			ip_allowlist: ['127.0.0.1/32'],
			strict_window: true,
			window_hours: 24,
		});
		expect(integration.templates.call_ended).toEqual({ enabled: false, text: expect.any(String) });

		const listed = await t.http.get(`/operator/3cx/integrations?account_id=${t.accountId}`).set(auth);
		expect(listed.body.integrations.map((item: { id: number }) => item.id)).toEqual([t.integrationId, integration.id]);
		expect(JSON.stringify(listed.body)).not.toContain(secret);

		const updated = await t.http
			.patch(`/operator/3cx/integrations/${integration.id}`)
			.set(auth)
			.send(
				JSON.stringify({
					hmac_secret: HMAC_SECRET,
					templates: { missed_call: { text: 'Missed you, {{customer_phone}}' } },
					window_hours: 48,
				}),
			);
		expect(updated.body.integration).toMatchObject({
			hmac_enabled: true,
			window_hours: 48,
			templates: { missed_call: { enabled: true, text: 'Missed you, {{customer_phone}}' } },
		});
		expect(JSON.stringify(updated.body)).not.toContain(HMAC_SECRET);

		const typo = await t.http
			.patch(`/operator/3cx/integrations/${integration.id}`)
			.set(auth)
			.send(JSON.stringify({ templates: { missed_call: { text: 'Hi {{name}}' } } }));
		expect([typo.status, typo.body.error, typo.body.details.fields.request]).toEqual([
			422,
			'validation_error',
			expect.stringContaining('unknown variables: name'),
		]);

		const rotated = await t.http.post(`/operator/3cx/integrations/${integration.id}/rotate-secret`).set(auth);
		expect(rotated.body.secret).toMatch(/^tcx_/);
		expect(rotated.body.secret).not.toBe(secret);
		const old = await t.post({ event_type: 'test' }, { 'X-WhatsApp-Gateway-3CX-Secret': secret }, integration.id);
		expect(old.status).toBe(401);

		await t.post({ event_type: 'test' });
		const events = await t.http.get(`/operator/3cx/integrations/${t.integrationId}/events`).set(auth);
		expect(events.body.events).toEqual([
			expect.objectContaining({ event_type: 'test', status: 'processed', action: 'received' }),
		]);

		const deleted = await t.http.delete(`/operator/3cx/integrations/${integration.id}`).set(auth);
		expect(deleted.body).toEqual({ success: true, deleted: true, id: integration.id });
		expect((await t.http.get(`/operator/3cx/integrations/${integration.id}`).set(auth)).status).toBe(404);
		expect((await t.http.get('/operator/3cx/integrations').set({ Authorization: 'Bearer nope' })).body.error).toBe(
			'invalid_admin_token',
		);
	});
});

describe('retention', () => {
	it('housekeeping drops 3CX event log entries older than the retention period', async () => {
		t = await createThreecxGateway();
		await t.post({ event_type: 'test' });
		t.clock.advance(2 * 86_400_000);
		await t.post({ event_type: 'test' });
		t.gateway.housekeeping(1);
		expect(
			t.gateway.threecx.service.recentEvents(t.integrationId).map((event) => new Date(event.created_at).toISOString()),
		).toEqual(['2026-09-17T10:30:00.000Z']);
	});
});
