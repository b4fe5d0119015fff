/**
 * Contract tests of the WhatsApp Cloud API provider over real HTTP: the gateway on loopback, the fake
 * Graph API (test/fakes/graph-api.ts) on loopback, the fixtures copied from Meta's documentation.
 */
import textMessage from '../fixtures/providers/meta-cloud-api-v23.0-webhook-text-message.json';
import imageMessage from '../fixtures/providers/meta-cloud-api-v23.0-webhook-image-message.json';
import statusDelivered from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-delivered.json';
import statusRead from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-read.json';
import statusFailed from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-failed-131047.json';
import reEngagement from '../fixtures/providers/meta-cloud-api-v23.0-error-131047-re-engagement.json';
import rateLimit from '../fixtures/providers/meta-cloud-api-v23.0-error-130429-rate-limit.json';
import undeliverable from '../fixtures/providers/meta-cloud-api-v23.0-error-131026-undeliverable.json';
import invalidToken from '../fixtures/providers/meta-cloud-api-v23.0-error-190-invalid-token.json';
import templateMissing from '../fixtures/providers/meta-cloud-api-v23.0-error-132001-template-missing.json';
import { GraphApiFake } from '../fakes/graph-api';
import { startProviderGateway, type ProviderGateway } from '../helpers/provider-gateway';
import type { Instance } from '../../server/src/instances/service';

const PHONE_NUMBER_ID = '106540352242922';
const ACCESS_TOKEN = 'EAAG-cloud-access-token-SECRET-1234567890';
const APP_SECRET = 'meta-app-secret-SECRET-abcdef0123456789';
const VERIFY_TOKEN = 'verify-token-SECRET-4b1d2c3e4f';
const PHONE = '+966501234567';

let graph: GraphApiFake;
let gw: ProviderGateway;
let instance: Instance;

const sendBody = (overrides: Record<string, unknown> = {}) => ({
	instance_id: 'cloud-line',
	phone: PHONE,
	message: 'Your order #2041 has been shipped.',
	message_purpose: 'transactional',
	...overrides,
});
const webhookUrl = () => `${gw.url}/providers/cloud/${instance.id}`;
const withStatusId = (fixture: typeof statusRead, id: string) => {
	const copy = structuredClone(fixture);
	copy.entry[0].changes[0].value.statuses[0].id = id;
	return copy;
};

beforeEach(async () => {
	graph = await new GraphApiFake({ phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN }).start();
	gw = await startProviderGateway({ timeoutMs: 2_000, cloudGraphUrl: graph.graphUrl });
	instance = gw.gateway.instances.create({
		accountId: gw.accountId,
		name: 'cloud-line',
		provider: 'cloud',
		connectionState: 'disconnected',
		providerSettings: {
			phoneNumberId: PHONE_NUMBER_ID,
			accessToken: ACCESS_TOKEN,
			appSecret: APP_SECRET,
			verifyToken: VERIFY_TOKEN,
		},
	});
	await gw.gateway.connector.connect(instance);
});

afterEach(async () => {
	await gw.close();
	await graph.stop();
});

describe('connect', () => {
	it('is connected once the token can read the phone number; a bad token is refused with a safe reason', async () => {
		expect(gw.gateway.instances.get(instance.id).connectionState).toBe('connected');
		gw.gateway.instances.update(instance.id, { providerSettings: { accessToken: 'expired' } });
		const answer = await gw.operator('POST', `/operator/instances/${instance.id}/connect`);
		expect(answer.status).toBe(502);
		expect(answer.body).toMatchObject({
			error: 'provider_request_failed',
			details: { reason: 'provider_unauthorized' },
		});
		expect(JSON.stringify(answer.body)).not.toContain('expired');
	});
});

describe('send', () => {
	it('text: POST /{phone_number_id}/messages with the Bearer token; the message id is the wamid', async () => {
		const answer = await gw.send(sendBody());
		expect(answer.status).toBe(200);
		const [request] = graph.messageRequests();
		expect(request.path).toBe(`/v23.0/${PHONE_NUMBER_ID}/messages`);
		expect(request.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
		expect(request.body).toEqual({
			messaging_product: 'whatsapp',
			recipient_type: 'individual',
			to: '966501234567',
			type: 'text',
			text: { body: 'Your order #2041 has been shipped.', preview_url: false },
		});
		expect(answer.body.message_id).toMatch(/^wamid\./);
	});

	it('media by link, and base64 media uploaded first to /{phone_number_id}/media then sent by id', async () => {
		const link = await gw.send(
			sendBody({
				message: 'Your invoice',
				media_type: 'document',
				mime_type: 'application/pdf',
				file_name: 'invoice.pdf',
				media: 'https://example.com/invoice.pdf',
			}),
		);
		expect(link.status).toBe(200);
		const content = Buffer.from('\x89PNG fake image bytes');
		const inline = await gw.send(
			sendBody({ message: 'Photo', media_type: 'image', mime_type: 'image/png', media: content.toString('base64') }),
		);
		expect(inline.status).toBe(200);
		const upload = graph.requests.find((request) => request.path.endsWith('/media'))!;
		expect(upload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
		expect(upload.raw.includes(content)).toBe(true);
		expect(upload.raw.toString('latin1')).toContain('name="messaging_product"');
		const bodies = graph.messageRequests().map((request) => request.body as Record<string, unknown>);
		expect(bodies[0]).toMatchObject({
			type: 'document',
			document: { link: 'https://example.com/invoice.pdf', caption: 'Your invoice', filename: 'invoice.pdf' },
		});
		expect(bodies[1]).toMatchObject({ type: 'image', image: { id: expect.stringMatching(/^\d+$/), caption: 'Photo' } });
	});

	it('a template: name, language and body parameters; the policy reads the parameters', async () => {
		const answer = await gw.send(
			sendBody({ message: '', template: { name: 'order_shipped', language: 'en_US', body_parameters: ['2041'] } }),
		);
		expect(answer.status).toBe(200);
		expect(graph.messageRequests()[0].body).toMatchObject({
			type: 'template',
			template: {
				name: 'order_shipped',
				language: { code: 'en_US' },
				components: [{ type: 'body', parameters: [{ type: 'text', text: '2041' }] }],
			},
		});
		const blocked = await gw.send(
			sendBody({
				message: '',
				template: {
					name: 'order_shipped',
					language: 'en_US',
					body_parameters: ['BUY NOW limited offer 50% discount bit.ly/deal'],
				},
			}),
		);
		expect(blocked.body.error).toBe('policy_violation');
		expect(graph.messageRequests()).toHaveLength(1);
	});

	it('a template on a provider that cannot send one is a clear 422', async () => {
		gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'sandbox-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const answer = await gw.send(
			sendBody({ instance_id: 'sandbox-line', message: '', template: { name: 'order_shipped', language: 'en_US' } }),
		);
		expect(answer.status).toBe(422);
		expect(answer.body).toMatchObject({ error: 'template_not_supported', details: { provider: 'sandbox' } });
		const invalid = await gw.send(sendBody({ template: { name: 'Order Shipped!', language: 'english' } }));
		expect(invalid.body).toMatchObject({
			error: 'validation_error',
			details: { fields: { 'template.name': expect.any(String), 'template.language': expect.any(String) } },
		});
	});

	it.each([
		['131047 (outside the 24-hour window)', 400, reEngagement, 'outside_customer_service_window'],
		['131026 (undeliverable)', 400, undeliverable, 'recipient_not_on_whatsapp'],
		['190 (invalid token)', 401, invalidToken, 'provider_unauthorized'],
		['132001 (template does not exist)', 404, templateMissing, 'template_rejected'],
	])(
		'error %s → 502 gateway_send_failed with a safe reason and message.failed',
		async (_case, status, body, reason) => {
			graph.failures.set('966501234567', { status, body });
			const answer = await gw.send(sendBody());
			expect(answer.status).toBe(502);
			expect(answer.body).toMatchObject({ error: 'gateway_send_failed', details: { reason } });
			expect(JSON.stringify(answer.body)).not.toContain((body as { error: { message: string } }).error.message);
			expect(gw.events().filter((event) => event.type === 'message.failed')).toHaveLength(1);
		},
	);

	it('a Graph 5xx → 502 with outcome unknown; a refused upload → media_rejected and no message sent', async () => {
		graph.failures.set('966501234567', {
			status: 500,
			body: { error: { message: 'An unknown error has occurred.', type: 'OAuthException', code: 1 } },
		});
		const unknown = await gw.send(sendBody());
		expect(unknown.body).toMatchObject({
			error: 'gateway_send_failed',
			details: { reason: 'provider_unavailable', outcome: 'unknown' },
		});
		graph.uploadFailure = {
			status: 400,
			body: {
				error: { message: '(#131053) Media upload error', type: 'OAuthException', code: 131053, fbtrace_id: 'AbC' },
			},
		};
		const refused = await gw.send(
			sendBody({
				phone: '+966501234568',
				message: 'Photo',
				media_type: 'image',
				mime_type: 'image/png',
				media: Buffer.from('png').toString('base64'),
			}),
		);
		expect(refused.body).toMatchObject({ error: 'gateway_send_failed', details: { reason: 'media_rejected' } });
		expect(refused.body.details).not.toHaveProperty('outcome');
		expect(graph.messageRequests()).toHaveLength(1);
	});

	it('a provider timeout → 502 with outcome unknown and message.failed; the Idempotency-Key replays it without sending', async () => {
		await gw.close();
		gw = await startProviderGateway({ timeoutMs: 300, cloudGraphUrl: graph.graphUrl });
		instance = gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'cloud-line',
			provider: 'cloud',
			connectionState: 'disconnected',
			providerSettings: {
				phoneNumberId: PHONE_NUMBER_ID,
				accessToken: ACCESS_TOKEN,
				appSecret: APP_SECRET,
				verifyToken: VERIFY_TOKEN,
			},
		});
		await gw.gateway.connector.connect(instance);
		graph.stallSends = true;
		const headers = { 'Idempotency-Key': 'cloud-order-2041' };
		const answer = await gw.send(sendBody(), headers);
		expect(answer.status).toBe(502);
		expect(answer.body).toMatchObject({
			error: 'gateway_send_failed',
			details: { outcome: 'unknown', reason: 'provider_timeout' },
		});
		expect((await gw.send(sendBody(), headers)).body).toEqual(answer.body);
		expect(graph.messageRequests()).toHaveLength(1);
		const logId = (answer.body.details as { log_id: number }).log_id;
		expect(
			gw.gateway.db.prepare('SELECT status, provider_message_id FROM message_log WHERE id = ?').get(logId),
		).toEqual({ status: 'unknown', provider_message_id: null });
		expect(gw.events().filter((event) => event.type === 'message.failed')).toHaveLength(1);
	});

	it('130429 (rate limit) → 429 sending_throttled with Retry-After, and the instance waits before calling Graph again', async () => {
		graph.failures.set('966501234567', { status: 400, body: rateLimit });
		const answer = await gw.send(sendBody());
		expect(answer.status).toBe(429);
		expect(answer.body).toMatchObject({
			error: 'sending_throttled',
			details: { scope: 'provider', reason: 'provider_rate_limited', retry_after_seconds: 10 },
		});
		expect(answer.headers.get('retry-after')).toBe('10');
		const next = await gw.send(sendBody({ phone: '+966501234568' }));
		expect(next.status).toBe(429);
		expect(graph.messageRequests()).toHaveLength(1);
		gw.clock.advance(10_000);
		expect((await gw.send(sendBody({ phone: '+966501234568' }))).status).toBe(200);
	});
});

describe('webhook', () => {
	it('GET verification echoes hub.challenge for the verify token only', async () => {
		const good = await fetch(
			`${webhookUrl()}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
		);
		expect(good.status).toBe(200);
		expect(good.headers.get('content-type')).toMatch(/^text\/plain/);
		expect(await good.text()).toBe('1158201444');
		const bad = await fetch(`${webhookUrl()}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444`);
		expect(bad.status).toBe(401);
	});

	it('POST is verified with X-Hub-Signature-256 over the raw body before anything is parsed', async () => {
		const forged = await GraphApiFake.notify(webhookUrl(), APP_SECRET, textMessage, `sha256=${'0'.repeat(64)}`);
		expect(forged.status).toBe(401);
		const otherSecret = await GraphApiFake.notify(webhookUrl(), 'another-app-secret', textMessage);
		expect(otherSecret.status).toBe(401);
		const missing = await fetch(webhookUrl(), {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: '{not json',
		});
		expect(missing.status).toBe(401);
		expect(gw.events().filter((event) => event.type === 'message.received')).toHaveLength(0);
	});

	it('messages → message.received once, however often Meta retries; media keeps its type and caption', async () => {
		expect(await GraphApiFake.notify(webhookUrl(), APP_SECRET, textMessage)).toMatchObject({
			status: 200,
			body: { duplicate: false },
		});
		expect(await GraphApiFake.notify(webhookUrl(), APP_SECRET, textMessage)).toMatchObject({
			status: 200,
			body: { duplicate: true },
		});
		await GraphApiFake.notify(webhookUrl(), APP_SECRET, imageMessage);
		const received = gw.events(instance.id).filter((event) => event.type === 'message.received');
		expect(received.map((event) => event.payload)).toEqual([
			expect.objectContaining({ from: PHONE, message_text: 'Hello, is my order ready?', message_type: 'text' }),
			expect.objectContaining({ from: PHONE, message_text: 'The damaged box', message_type: 'image' }),
		]);
		expect(gw.gateway.inbound.lastInboundAt(instance.id, PHONE)).toBeDefined();
	});

	it('statuses → delivered, read; failed ends a delivered message; nothing moves backwards', async () => {
		const sent = await gw.send(sendBody());
		const id = String(sent.body.message_id);
		await GraphApiFake.notify(webhookUrl(), APP_SECRET, withStatusId(statusDelivered as typeof statusRead, id));
		await GraphApiFake.notify(webhookUrl(), APP_SECRET, withStatusId(statusRead, id));
		const late = await GraphApiFake.notify(
			webhookUrl(),
			APP_SECRET,
			withStatusId(statusDelivered as typeof statusRead, id),
		);
		expect(late.body).toMatchObject({ duplicate: true });
		const types = gw
			.events(instance.id)
			.map((event) => event.type)
			.filter((type) => type !== 'message.sent' && type.startsWith('message.'));
		expect(types).toEqual(['message.status_updated', 'message.delivered', 'message.status_updated', 'message.read']);

		const second = await gw.send(sendBody({ phone: '+966501234568' }));
		const secondId = String(second.body.message_id);
		await GraphApiFake.notify(webhookUrl(), APP_SECRET, withStatusId(statusDelivered as typeof statusRead, secondId));
		await GraphApiFake.notify(webhookUrl(), APP_SECRET, withStatusId(statusFailed as typeof statusRead, secondId));
		const failedStatus = gw
			.events(instance.id)
			.filter((event) => event.type === 'message.status_updated')
			.at(-1);
		expect(failedStatus?.payload).toMatchObject({ status: 'failed', external_message_id: secondId });
		const log = await fetch(`${gw.url}/api/messages/${String(second.body.log_id)}`, {
			headers: { Authorization: `Bearer ${gw.apiKey}` },
		});
		expect(((await log.json()) as { message: { status: string } }).message.status).toBe('failed');
		const afterFailed = await GraphApiFake.notify(webhookUrl(), APP_SECRET, withStatusId(statusRead, secondId));
		expect(afterFailed.body).toMatchObject({ duplicate: true });
	});

	it('changes for another phone number of the same app are left out', async () => {
		const other = structuredClone(textMessage);
		other.entry[0].changes[0].value.metadata.phone_number_id = '999999999999999';
		expect(await GraphApiFake.notify(webhookUrl(), APP_SECRET, other)).toMatchObject({
			status: 200,
			body: { event_ids: [] },
		});
		expect(gw.events().filter((event) => event.type === 'message.received')).toHaveLength(0);
	});
});
