/**
 * Contract tests of the Evolution API v2 provider over real HTTP: the gateway on loopback, the fake
 * Evolution API (test/fakes/evolution-api.ts) on loopback, the fixtures copied from Evolution's source.
 */
import upsertText from '../fixtures/providers/evolution-api-v2.3.6-messages-upsert-text.json';
import upsertImage from '../fixtures/providers/evolution-api-v2.3.6-messages-upsert-image.json';
import upsertLid from '../fixtures/providers/evolution-api-v2.3.6-messages-upsert-lid.json';
import upsertGroup from '../fixtures/providers/evolution-api-v2.3.6-messages-upsert-group.json';
import updateDelivered from '../fixtures/providers/evolution-api-v2.3.6-messages-update-delivery-ack.json';
import updateRead from '../fixtures/providers/evolution-api-v2.3.6-messages-update-read.json';
import sendMessage from '../fixtures/providers/evolution-api-v2.3.6-send-message.json';
import connectionClose from '../fixtures/providers/evolution-api-v2.3.6-connection-update-close.json';
import qrcodeUpdated from '../fixtures/providers/evolution-api-v2.3.6-qrcode-updated.json';
import callOffer from '../fixtures/providers/evolution-api-v2.3.6-call-offer.json';
import callTimeout from '../fixtures/providers/evolution-api-v2.3.6-call-timeout.json';
import groupsUpsert from '../fixtures/providers/evolution-api-v2.3.6-groups-upsert.json';
import participantsUpdate from '../fixtures/providers/evolution-api-v2.3.6-group-participants-update.json';
import chatsUpdate from '../fixtures/providers/evolution-api-v2.3.6-chats-update.json';
import { EvolutionApiFake } from '../fakes/evolution-api';
import { startProviderGateway, type ProviderGateway } from '../helpers/provider-gateway';
import { Writable } from 'node:stream';
import { GraphApiFake } from '../fakes/graph-api';
import type { Instance } from '../../server/src/instances/service';
import { createLogger } from '../../server/src/logger';

const GLOBAL_KEY = 'evolution-global-key-SECRET-7f3a9c';
const PHONE = '+966501234567';

let evolution: EvolutionApiFake;
let gw: ProviderGateway;

async function evolutionInstance(name = 'support-line', settings: Record<string, unknown> = {}): Promise<Instance> {
	return gw.gateway.instances.create({
		accountId: gw.accountId,
		name,
		provider: 'evolution',
		connectionState: 'disconnected',
		providerSettings: { baseUrl: evolution.url, apiKey: GLOBAL_KEY, instanceName: name, ...settings },
	});
}

/** An instance connected the way an operator does it: connect, scan, Evolution reports `open`. */
async function connectedInstance(name = 'support-line', settings: Record<string, unknown> = {}): Promise<Instance> {
	const instance = await evolutionInstance(name, settings);
	await gw.gateway.connector.connect(instance);
	await evolution.scan(String(settings.instanceName ?? name));
	return gw.gateway.instances.get(instance.id);
}

const sendBody = (overrides: Record<string, unknown> = {}) => ({
	instance_id: 'support-line',
	phone: PHONE,
	message: 'Your order #2041 has been shipped.',
	message_purpose: 'transactional',
	...overrides,
});

beforeEach(async () => {
	evolution = await new EvolutionApiFake({ globalKey: GLOBAL_KEY }).start();
	gw = await startProviderGateway({ timeoutMs: 2_000 });
});

afterEach(async () => {
	await gw.close();
	await evolution.stop();
});

describe('connect', () => {
	it('creates the Evolution instance with its webhook and token, shows the QR code, and follows connection.update', async () => {
		const instance = await evolutionInstance('support-line', { pairingNumber: '+966500000001' });
		const answer = await gw.operator('POST', `/operator/instances/${instance.id}/connect`);
		expect(answer.status).toBe(200);
		expect(answer.body).toMatchObject({ connection_state: 'qr', qr_available: true, pairing_code: 'WZYEH1YY' });

		const create = evolution.requests.find((request) => request.path === '/instance/create');
		expect(create?.headers.apikey).toBe(GLOBAL_KEY);
		expect(create?.body).toMatchObject({ instanceName: 'support-line', integration: 'WHATSAPP-BAILEYS' });
		const webhook = evolution.instances.get('support-line')?.webhook;
		expect(webhook).toMatchObject({
			enabled: true,
			url: `${gw.url}/providers/evolution/${instance.id}`,
			byEvents: false,
		});
		expect(webhook?.events).toEqual(
			expect.arrayContaining(['MESSAGES_UPSERT', 'MESSAGES_UPDATE', 'CONNECTION_UPDATE', 'QRCODE_UPDATED', 'CALL']),
		);
		expect(webhook?.headers['x-gateway-webhook-token']).toBe(
			gw.gateway.instances.providerSettings(instance.id).webhookToken,
		);
		expect(
			evolution.requests.some((request) => request.path === '/instance/connect/support-line?number=966500000001'),
		).toBe(true);

		expect(gw.gateway.instances.get(instance.id).connectionState).toBe('qr');
		const png = await gw.operator('GET', `/operator/instances/${instance.id}/qr`);
		expect(png.status).toBe(200);
		expect(png.type).toBe('image/png');
		expect(Buffer.from(png.raw).subarray(1, 4).toString('latin1')).toBe('PNG');

		await evolution.scan('support-line');
		expect(gw.gateway.instances.get(instance.id).connectionState).toBe('connected');
		const noQr = await gw.operator('GET', `/operator/instances/${instance.id}/qr`);
		expect([noQr.status, noQr.body.details]).toEqual([
			404,
			{ instance_id: instance.id, qr: 'none (the instance is connected)' },
		]);
		const types = gw.events(instance.id).map((event) => event.type);
		expect(types).toEqual([
			'instance.connection_updated',
			'instance.qr_updated',
			'instance.connection_updated',
			'instance.connected',
		]);
		expect(JSON.stringify(gw.events())).not.toContain(GLOBAL_KEY);

		// A new API key keeps the connection; another Evolution instance name needs a new connect.
		const key = await gw.operator('PATCH', `/operator/instances/${instance.id}`, {
			settings: { apiKey: 'instance-token-2' },
		});
		expect([key.status, (key.body.instance as { connection_state: string }).connection_state]).toEqual([
			200,
			'connected',
		]);
		const renamed = await gw.operator('PATCH', `/operator/instances/${instance.id}`, {
			settings: { instanceName: 'support-line-2', apiKey: GLOBAL_KEY },
		});
		expect([renamed.status, (renamed.body.instance as { connection_state: string }).connection_state]).toEqual([
			200,
			'disconnected',
		]);
		expect(
			gw
				.events(instance.id)
				.map((event) => event.type)
				.slice(-2),
		).toEqual(['instance.connection_updated', 'instance.disconnected']);
		// While pairing, too: the QR code of the old connection goes with it.
		expect((await gw.operator('POST', `/operator/instances/${instance.id}/connect`)).body).toMatchObject({
			connection_state: 'qr',
		});
		expect((await gw.operator('GET', `/operator/instances/${instance.id}/qr`)).status).toBe(200);
		await gw.operator('PATCH', `/operator/instances/${instance.id}`, { settings: { instanceName: 'support-line-3' } });
		expect(gw.gateway.instances.get(instance.id).connectionState).toBe('disconnected');
		const gone = await gw.operator('GET', `/operator/instances/${instance.id}/qr`);
		expect([gone.status, gone.body.details]).toEqual([
			404,
			{ instance_id: instance.id, qr: 'none (connect the instance first)' },
		]);
	});

	it('reuses an instance that exists in Evolution, and reports connected at once when it is open', async () => {
		evolution.addInstance('evo-existing', 'open');
		const instance = await evolutionInstance('support-line', { instanceName: 'evo-existing' });
		const result = await gw.gateway.connector.connect(instance);
		expect(result).toEqual({ state: 'connected' });
		expect(evolution.requests.some((request) => request.path === '/instance/create')).toBe(false);
		expect(evolution.instances.get('evo-existing')?.webhook?.url).toBe(`${gw.url}/providers/evolution/${instance.id}`);
	});

	it('qrcode.updated stores the new QR code; connection.update close disconnects', async () => {
		const instance = await connectedInstance();
		expect((await evolution.deliver('support-line', qrcodeUpdated)).status).toBe(200);
		expect(gw.gateway.instances.qr(instance.id)?.code).toBe(qrcodeUpdated.data.qrcode.code);
		expect((await evolution.deliver('support-line', connectionClose)).status).toBe(200);
		expect(gw.gateway.instances.get(instance.id).connectionState).toBe('disconnected');
		expect(
			gw
				.events(instance.id)
				.slice(-3)
				.map((event) => event.type),
		).toEqual(['instance.qr_updated', 'instance.connection_updated', 'instance.disconnected']);
	});
});

describe('send', () => {
	it('refuses an instance that is not connected before calling Evolution', async () => {
		await evolutionInstance();
		const answer = await gw.send(sendBody());
		expect(answer.status).toBe(409);
		expect(answer.body).toMatchObject({
			error: 'instance_not_connected',
			details: { provider: 'evolution', connection_state: 'disconnected' },
		});
		expect(evolution.sends).toBe(0);
	});

	it('a 3CX send to a disconnected instance is refused like an API send, before calling Evolution', async () => {
		const instance = await evolutionInstance();
		gw.gateway.accounts.update(gw.accountId, { threecx: true });
		const { integration, secret } = await gw.gateway.threecx.integrations.create(gw.accountId, {
			instance: instance.name,
			businessName: 'Acme Support',
		});
		// The customer wrote first, so the conversation window is open: only the connection is missing.
		await gw.gateway.inbound.receiveMessage({
			instanceId: instance.id,
			providerMessageId: 'wamid.3cx-window',
			from: PHONE,
			text: 'Hello, I called you',
		});
		const answer = await fetch(`${gw.url}/integrations/3cx/webhook/${integration.id}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-WhatsApp-Gateway-3CX-Secret': secret },
			body: JSON.stringify({
				event_type: 'outbound_message',
				customer_phone: PHONE,
				message_text: 'Your callback is booked.',
				message_purpose: 'support',
			}),
		});
		const body = await answer.json();
		expect([answer.status, body]).toMatchObject([
			409,
			{
				error: 'instance_not_connected',
				details: { provider: 'evolution', connection_state: 'disconnected' },
			},
		]);
		expect(evolution.sends).toBe(0);
	});

	it('text: POST /message/sendText/{instance} with the apikey header; the message id is Evolution key.id', async () => {
		await connectedInstance();
		const answer = await gw.send(sendBody());
		expect(answer.status).toBe(200);
		const request = evolution.requests.find((item) => item.path === '/message/sendText/support-line');
		expect(request?.headers.apikey).toBe(GLOBAL_KEY);
		expect(request?.body).toEqual({ number: '966501234567', text: 'Your order #2041 has been shipped.' });
		expect(answer.body.message_id).toMatch(/^3EB0[0-9A-F]{16}$/);
	});

	it('media by URL and as raw base64 (the data: prefix stripped, fileName for documents)', async () => {
		await connectedInstance();
		const url = await gw.send(
			sendBody({
				message: 'Your invoice',
				media_type: 'document',
				mime_type: 'application/pdf',
				file_name: 'invoice-2041.pdf',
				media: 'https://example.com/invoice-2041.pdf',
			}),
		);
		expect(url.status).toBe(200);
		const base64 = Buffer.from('%PDF-1.4 test invoice').toString('base64');
		const inline = await gw.send(
			sendBody({
				message: 'Photo',
				media_type: 'image',
				mime_type: 'image/png',
				media: `data:image/png;base64,${base64}`,
			}),
		);
		expect(inline.status).toBe(200);
		const bodies = evolution.requests
			.filter((item) => item.path === '/message/sendMedia/support-line')
			.map((item) => item.body);
		expect(bodies).toEqual([
			{
				number: '966501234567',
				mediatype: 'document',
				mimetype: 'application/pdf',
				media: 'https://example.com/invoice-2041.pdf',
				caption: 'Your invoice',
				fileName: 'invoice-2041.pdf',
			},
			{ number: '966501234567', mediatype: 'image', mimetype: 'image/png', media: base64, caption: 'Photo' },
		]);
	});

	it.each([
		['a number not on WhatsApp', 'recipient_not_on_whatsapp', () => evolution.notOnWhatsApp.add('966501234567')],
		[
			'a disconnected Evolution instance (Connection Closed)',
			'instance_not_connected',
			() => (evolution.instances.get('support-line')!.state = 'close'),
		],
		[
			'a wrong API key',
			'provider_unauthorized',
			() =>
				gw.gateway.instances.update(gw.gateway.instances.list(gw.accountId)[0].id, {
					providerSettings: { apiKey: 'wrong' },
				}),
		],
		[
			'an instance deleted in Evolution (404)',
			'instance_not_connected',
			() => evolution.instances.delete('support-line'),
		],
		[
			'refused media (400)',
			'media_rejected',
			() =>
				(evolution.nextSendAnswer = {
					status: 400,
					body: { status: 400, error: 'Bad Request', response: { message: ['Owned media must be a url or base64'] } },
				}),
		],
	])(
		'%s → 502 gateway_send_failed with a safe reason, message.failed, the raw text only in the log',
		async (_case, reason, arrange) => {
			await connectedInstance();
			arrange();
			const answer = await gw.send(sendBody());
			expect(answer.status).toBe(502);
			expect(answer.body).toMatchObject({ error: 'gateway_send_failed', details: { reason } });
			expect(answer.body.details).not.toHaveProperty('outcome');
			expect(JSON.stringify(answer.body)).not.toMatch(/exists|Connection Closed|Unauthorized/);
			const failed = gw.events().filter((event) => event.type === 'message.failed');
			expect(failed).toHaveLength(1);
			const log = await fetch(`${gw.url}/api/messages/${String((answer.body.details as { log_id: number }).log_id)}`, {
				headers: { Authorization: `Bearer ${gw.apiKey}` },
			});
			expect(((await log.json()) as { message: { status: string } }).message.status).toBe('failed');
		},
	);

	it('an Evolution 429 → 429 sending_throttled (scope provider) with Retry-After, the quota unit given back', async () => {
		await connectedInstance();
		evolution.nextSendAnswer = {
			status: 429,
			body: { status: 429, error: 'Too Many Requests', response: { message: ['Too many requests'] } },
		};
		const answer = await gw.send(sendBody());
		expect(answer.status).toBe(429);
		expect(answer.body).toMatchObject({
			error: 'sending_throttled',
			details: { scope: 'provider', reason: 'provider_rate_limited', retry_after_seconds: 60 },
		});
		expect(answer.headers.get('retry-after')).toBe('60');
		const me = await fetch(`${gw.url}/api/me`, { headers: { Authorization: `Bearer ${gw.apiKey}` } });
		expect(JSON.stringify(await me.json())).toMatch(/"today":0/);
	});

	it('an Evolution 5xx → 502 with outcome unknown (it may have sent), never retried', async () => {
		await connectedInstance();
		evolution.nextSendAnswer = {
			status: 500,
			body: { status: 500, error: 'Internal Server Error', response: { message: 'Internal Server Error' } },
		};
		const answer = await gw.send(sendBody(), { 'Idempotency-Key': 'order-2041-5xx' });
		expect(answer.body).toMatchObject({
			error: 'gateway_send_failed',
			details: { reason: 'provider_unavailable', outcome: 'unknown' },
		});
		expect((await gw.send(sendBody(), { 'Idempotency-Key': 'order-2041-5xx' })).body).toEqual(answer.body);
		expect(evolution.sends).toBe(1);
	});

	it('a provider timeout → 502 with outcome unknown and message.failed; a retry with the same Idempotency-Key sends nothing', async () => {
		await gw.close();
		gw = await startProviderGateway({ timeoutMs: 300 });
		await connectedInstance();
		evolution.stallSends = true;
		const headers = { 'Idempotency-Key': 'order-2041-shipped' };
		const answer = await gw.send(sendBody(), headers);
		expect(answer.status).toBe(502);
		expect(answer.body).toMatchObject({
			error: 'gateway_send_failed',
			details: { outcome: 'unknown', reason: 'provider_timeout' },
		});
		const logId = (answer.body.details as { log_id: number }).log_id;
		const replay = await gw.send(sendBody(), headers);
		expect(replay.status).toBe(502);
		expect(replay.body).toEqual(answer.body);
		expect(evolution.sends).toBe(1);
		const row = gw.gateway.db
			.prepare('SELECT status, error_code, provider_message_id FROM message_log WHERE id = ?')
			.get(logId);
		expect(row).toEqual({ status: 'unknown', error_code: 'gateway_send_failed', provider_message_id: null });
		expect(gw.events().filter((event) => event.type === 'message.failed')).toHaveLength(1);
		expect(gw.events().filter((event) => event.type === 'message.sent')).toHaveLength(0);
	});

	it('the provider pace (pacePerMinute) answers 429 sending_throttled with Retry-After before Evolution is called', async () => {
		await connectedInstance('support-line', { pacePerMinute: '2' });
		const outcomes = await Promise.all([1, 2, 3, 4].map((n) => gw.send(sendBody({ phone: `+96650123450${n}` }))));
		const statuses = outcomes.map((outcome) => outcome.status).sort();
		// pace 2/min: one at once plus a burst of one; the others wait.
		expect(statuses).toEqual([200, 200, 429, 429]);
		const throttled = outcomes.find((outcome) => outcome.status === 429)!;
		expect(throttled.body).toMatchObject({ error: 'sending_throttled', details: { scope: 'provider', limit: 2 } });
		expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(evolution.sends).toBe(2);
	});
});

describe('inbound webhooks', () => {
	it('refuses a webhook without the instance token, before anything is parsed or stored', async () => {
		const instance = await connectedInstance();
		const answer = await fetch(`${gw.url}/providers/evolution/${instance.id}`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'x-gateway-webhook-token': 'guess' },
			body: JSON.stringify(upsertText),
		});
		expect(answer.status).toBe(401);
		expect(((await answer.json()) as { error: string }).error).toBe('invalid_provider_webhook');
		const unknown = await fetch(`${gw.url}/providers/evolution/inst_doesnotexist`, { method: 'POST', body: '{}' });
		expect(unknown.status).toBe(401);
		expect(gw.gateway.db.prepare('SELECT COUNT(*) AS n FROM inbound_messages').get()).toEqual({ n: 0 });
	});

	it('messages.upsert text → message.received once, however often Evolution retries it', async () => {
		const instance = await connectedInstance();
		const first = await evolution.deliver('support-line', upsertText);
		const retry = await evolution.deliver('support-line', upsertText);
		expect(first).toMatchObject({ status: 200, body: { duplicate: false } });
		expect(retry).toMatchObject({ status: 200, body: { duplicate: true } });
		const received = gw.events(instance.id).filter((event) => event.type === 'message.received');
		expect(received).toHaveLength(1);
		expect(received[0].payload).toMatchObject({
			from: PHONE,
			message_text: 'Hello, is my order ready?',
			message_type: 'text',
			external_message_id: '3EB0C767D26A1D4A5B2E',
		});
		expect(received[0].payload.timestamp).toBe('2025-10-21T10:15:30.000Z');
	});

	it('media: the type and caption', async () => {
		const instance = await connectedInstance();
		await evolution.deliver('support-line', upsertImage);
		const [received] = gw.events(instance.id).filter((event) => event.type === 'message.received');
		expect(received.payload).toMatchObject({ message_type: 'image', message_text: 'The damaged box' });
	});

	it('an @lid sender is resolved through key.remoteJidAlt: STOP suppresses the phone', async () => {
		const instance = await connectedInstance();
		await evolution.deliver('support-line', upsertLid);
		const types = gw.events(instance.id).map((event) => event.type);
		expect(types).toContain('recipient.opted_out');
		expect(gw.gateway.suppressions.find(gw.accountId, PHONE)).toBeDefined();
		expect(gw.gateway.inbound.lastInboundAt(instance.id, PHONE)).toBeDefined();
		const refused = await gw.send(sendBody());
		expect(refused.body.error).toBe('recipient_suppressed');
	});

	it('a group message → group.message_received with the participant phone (participantAlt for @lid)', async () => {
		const instance = await connectedInstance();
		await evolution.deliver('support-line', upsertGroup);
		const group = gw.events(instance.id).filter((event) => event.type === 'group.message_received');
		expect(group).toHaveLength(1);
		expect(group[0].payload).toMatchObject({ group_id: '120363041234567890@g.us', from: '+966501112233' });
		expect(gw.events(instance.id).some((event) => event.type === 'message.received')).toBe(false);
	});

	it('statuses: send.message and DELIVERY_ACK then READ move the message forward; a late DELIVERY_ACK changes nothing', async () => {
		const instance = await connectedInstance();
		const sent = await gw.send(sendBody());
		const id = String(sent.body.message_id);
		const withId = <T extends { data: Record<string, unknown> }>(fixture: T, key: 'keyId' | 'key') =>
			key === 'keyId'
				? { ...fixture, data: { ...fixture.data, keyId: id } }
				: { ...fixture, data: { ...fixture.data, key: { ...(fixture.data.key as object), id } } };
		await evolution.deliver('support-line', withId(sendMessage, 'key'));
		await evolution.deliver('support-line', withId(updateDelivered, 'keyId'));
		await evolution.deliver('support-line', withId(updateRead, 'keyId'));
		const late = await evolution.deliver('support-line', withId(updateDelivered, 'keyId'));
		expect(late.body).toMatchObject({ duplicate: true });
		const types = gw
			.events(instance.id)
			.map((event) => event.type)
			.filter((type) => type.startsWith('message.'));
		expect(types).toEqual([
			'message.sent',
			'message.status_updated',
			'message.delivered',
			'message.status_updated',
			'message.read',
		]);
		const log = await fetch(`${gw.url}/api/messages/${String(sent.body.log_id)}`, {
			headers: { Authorization: `Bearer ${gw.apiKey}` },
		});
		expect(((await log.json()) as { message: { status: string } }).message.status).toBe('read');
	});

	it('messages.update ERROR ends a sent message as failed (message.status_updated), and nothing moves it after', async () => {
		await connectedInstance();
		const sent = await gw.send(sendBody());
		const id = String(sent.body.message_id);
		const update = (status: string) => ({ ...updateDelivered, data: { ...updateDelivered.data, keyId: id, status } });
		expect((await evolution.deliver('support-line', update('ERROR'))).body).toMatchObject({ duplicate: false });
		expect((await evolution.deliver('support-line', update('READ'))).body).toMatchObject({ duplicate: true });
		const last = gw
			.events()
			.filter((event) => event.type === 'message.status_updated')
			.at(-1);
		expect(last?.payload).toMatchObject({ status: 'failed', external_message_id: id });
	});

	it('calls: offer → call.received, timeout → call.missed; groups.* → group.updated; chats.update → conversation.updated', async () => {
		const instance = await connectedInstance();
		for (const fixture of [callOffer, callTimeout, groupsUpsert, participantsUpdate, chatsUpdate]) {
			expect((await evolution.deliver('support-line', fixture)).status).toBe(200);
		}
		const events = gw.events(instance.id).filter((event) => !event.type.startsWith('instance.'));
		expect(events.map((event) => event.type)).toEqual([
			'call.received',
			'call.missed',
			'group.updated',
			'group.updated',
			'conversation.updated',
		]);
		expect(events[0].payload).toMatchObject({ from: PHONE, call_status: 'offer' });
		expect(events[2].payload).toMatchObject({ group_id: '120363041234567890@g.us' });
		expect(events[4].payload).toMatchObject({ conversation_id: PHONE });
	});
});

describe('provider retries', () => {
	it('a call report Evolution retries is one event (the call id and status), a new status of it another', async () => {
		const instance = await connectedInstance();
		expect((await evolution.deliver('support-line', callOffer)).body).toMatchObject({ duplicate: false });
		expect((await evolution.deliver('support-line', callOffer)).body).toMatchObject({ duplicate: true });
		expect((await evolution.deliver('support-line', callTimeout)).body).toMatchObject({ duplicate: false });
		const calls = gw
			.events(instance.id)
			.filter((event) => event.type.startsWith('call.'))
			.map((event) => event.type);
		expect(calls).toEqual(['call.received', 'call.missed']);
	});
});

describe('the name in Evolution', () => {
	it('defaults to the gateway instance id, so the same name in two accounts never shares an Evolution instance', async () => {
		const other = gw.gateway.accounts.create({ name: 'Other account' });
		const settings = { baseUrl: evolution.url, apiKey: GLOBAL_KEY };
		const mine = gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'support-line',
			provider: 'evolution',
			connectionState: 'disconnected',
			providerSettings: settings,
		});
		const theirs = gw.gateway.instances.create({
			accountId: other.id,
			name: 'support-line',
			provider: 'evolution',
			connectionState: 'disconnected',
			providerSettings: settings,
		});
		await gw.gateway.connector.connect(mine);
		await gw.gateway.connector.connect(theirs);
		expect([...evolution.instances.keys()].sort()).toEqual([mine.id, theirs.id].sort());
		expect(evolution.instances.get(mine.id)?.webhook?.url).toBe(`${gw.url}/providers/evolution/${mine.id}`);
		expect(evolution.instances.get(theirs.id)?.webhook?.url).toBe(`${gw.url}/providers/evolution/${theirs.id}`);
	});
});

describe('settings', () => {
	it('are validated, and never appear in API answers or the operator view', async () => {
		const created = await gw.operator('POST', '/operator/instances', {
			account_id: gw.accountId,
			name: 'evo-two',
			provider: 'evolution',
			settings: { baseUrl: evolution.url, apiKey: GLOBAL_KEY },
		});
		expect(created.status).toBe(201);
		expect(created.body.instance).toMatchObject({
			provider: 'evolution',
			connection_state: 'disconnected',
			settings_set: ['apiKey', 'baseUrl', 'webhookToken'],
		});
		const token = String(
			gw.gateway.instances.providerSettings(String((created.body.instance as { id: string }).id)).webhookToken,
		);
		for (const answer of [
			created,
			await gw.operator('GET', `/operator/instances/${String((created.body.instance as { id: string }).id)}`),
		]) {
			expect(JSON.stringify(answer.body)).not.toContain(GLOBAL_KEY);
			expect(JSON.stringify(answer.body)).not.toContain(token);
		}
		const id = String((created.body.instance as { id: string }).id);
		const patched = await gw.operator('PATCH', `/operator/instances/${id}`, {
			display_name: 'Evolution Two',
			settings: { pacePerMinute: 30, apiKey: 'rotated-SECRET' },
		});
		expect(patched.status).toBe(200);
		expect(patched.body.instance).toMatchObject({
			display_name: 'Evolution Two',
			settings_set: ['apiKey', 'baseUrl', 'pacePerMinute', 'webhookToken'],
		});
		expect(JSON.stringify(patched.body)).not.toContain('rotated-SECRET');
		expect(gw.gateway.instances.providerSettings(id)).toMatchObject({ apiKey: 'rotated-SECRET', pacePerMinute: 30 });
		const removed = await gw.operator('PATCH', `/operator/instances/${id}`, { settings: { pacePerMinute: null } });
		expect(removed.body.instance).toMatchObject({ settings_set: ['apiKey', 'baseUrl', 'webhookToken'] });
		const refused = await gw.operator('PATCH', `/operator/instances/${id}`, { settings: { baseUrl: null } });
		expect(refused.status).toBe(422);
		expect(refused.body.details).toMatchObject({ fields: { baseUrl: 'is required' } });
		const bad = await gw.operator('POST', '/operator/instances', {
			account_id: gw.accountId,
			name: 'evo-three',
			provider: 'evolution',
			settings: { baseUrl: 'ftp://x', apiKey: '' },
		});
		expect(bad.status).toBe(422);
		expect(bad.body.details).toMatchObject({
			fields: { baseUrl: 'must be an http or https URL', apiKey: 'must not be empty' },
		});
	});
});

describe('side by side', () => {
	it('sandbox, Evolution and Cloud API instances send through their own providers; no secret reaches a log line', async () => {
		let logged = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				logged += String(chunk);
				done();
			},
		});
		await gw.close();
		const graph = await new GraphApiFake({
			phoneNumberId: '106540352242922',
			accessToken: 'EAAG-token-SECRET-side',
		}).start();
		gw = await startProviderGateway({ timeoutMs: 2_000, cloudGraphUrl: graph.graphUrl }, createLogger('debug', sink));
		try {
			await connectedInstance();
			const cloud = gw.gateway.instances.create({
				accountId: gw.accountId,
				name: 'cloud-line',
				provider: 'cloud',
				connectionState: 'disconnected',
				providerSettings: {
					phoneNumberId: '106540352242922',
					accessToken: 'EAAG-token-SECRET-side',
					appSecret: 'app-secret-SECRET-side',
				},
			});
			await gw.gateway.connector.connect(cloud);
			gw.gateway.instances.create({
				accountId: gw.accountId,
				name: 'sandbox-line',
				provider: 'sandbox',
				connectionState: 'connected',
			});

			const answers = await Promise.all([
				gw.send(sendBody({ instance_id: 'support-line' })),
				gw.send(sendBody({ instance_id: 'cloud-line', phone: '+966501234568' })),
				gw.send(sendBody({ instance_id: 'sandbox-line', phone: '+966501234569' })),
			]);
			expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
			expect(String(answers[0].body.message_id)).toMatch(/^3EB0/);
			expect(String(answers[1].body.message_id)).toMatch(/^wamid\./);
			expect(String(answers[2].body.message_id)).toMatch(/^sandbox\./);
			expect(evolution.sends).toBe(1);
			expect(graph.messageRequests()).toHaveLength(1);

			// Failures are logged with the provider's text, never with a key, token or secret.
			evolution.notOnWhatsApp.add('966501234567');
			graph.failures.set('966501234568', {
				status: 401,
				body: { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } },
			});
			await gw.send(sendBody({ instance_id: 'support-line', message: 'Second note' }));
			await gw.send(sendBody({ instance_id: 'cloud-line', phone: '+966501234568', message: 'Second note' }));
			expect(logged).toContain('provider send failed');
			for (const secret of [GLOBAL_KEY, 'EAAG-token-SECRET-side', 'app-secret-SECRET-side'])
				expect(logged).not.toContain(secret);
			const evolutionLine = gw.gateway.instances.findForAccount(gw.accountId, 'support-line')!;
			expect(logged).not.toContain(String(gw.gateway.instances.providerSettings(evolutionLine.id).webhookToken));
		} finally {
			await graph.stop();
		}
	});
});
