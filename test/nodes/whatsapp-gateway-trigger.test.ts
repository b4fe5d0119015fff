/**
 * The WhatsApp Gateway Trigger as n8n runs it (test/helpers/n8n-harness.ts): its webhook methods in
 * n8n-core's HookContext when the workflow is activated and deactivated, its `webhook()` in n8n-core's
 * WebhookContext for each delivery, against the real gateway on a loopback port. The deliveries are
 * real ones: the gateway's worker signs them and sends them to the trigger's webhook URL, where a
 * loopback receiver keeps the raw body and headers n8n would hand to `webhook()`.
 */
import {
	computeSignature,
	computeStandardSignature,
	SIGNATURE_HEADERS_LOWER,
	STANDARD_WEBHOOK_HEADERS,
} from '../../contract/src/signature';
import {
	REMEMBERED_DELIVERIES,
	type GatewayWebhook,
} from '../../nodes/WhatsAppGatewayTrigger/WhatsAppGatewayTrigger.node';
import { ManualClock } from '../helpers/clock';
import { createTestGateway, listen, PHONE, type TestGateway } from '../helpers/gateway';
import { createTriggerHarness, type TriggerHarness, type WebhookRequest } from '../helpers/n8n-harness';
import { startReceiver, type Receiver } from '../helpers/receiver';

let t: TestGateway;
let server: { url: string; close: () => Promise<void> };
let receiver: Receiver;
let trigger: TriggerHarness;

beforeEach(async () => {
	// The gateway stamps deliveries with its clock and the trigger checks them against n8n's: both
	// read the real time here.
	t = createTestGateway({ clock: new ManualClock(Date.now()) });
	server = await listen(t.gateway.createApp().callback());
	receiver = await startReceiver();
	trigger = createTriggerHarness({
		parameters: {
			recommendedEvents: ['message.received', 'recipient.opted_out'],
			lifecycleEvents: ['message.delivered'],
			instance: { __rl: true, mode: 'list', value: t.instanceId },
		},
		credentials: { whatsAppGatewayApi: { baseUrl: server.url, apiKey: t.apiKey } },
		// n8n's WEBHOOK_URL is the receiver, so the gateway's deliveries for the trigger land there.
		webhookBaseUrl: `${receiver.base}/webhook`,
	});
});

afterEach(async () => {
	await t.gateway.deliveries.stop();
	await server.close();
	await receiver.close();
	t.close();
});

async function gateway<T>(method: 'GET' | 'DELETE', path: string): Promise<{ status: number; body: T }> {
	const response = await fetch(`${server.url}${path}`, { method, headers: { Authorization: `Bearer ${t.apiKey}` } });
	return { status: response.status, body: (await response.json()) as T };
}

const subscriptions = async () => (await gateway<{ webhooks: GatewayWebhook[] }>('GET', '/api/webhooks')).body.webhooks;

/** What n8n does on activation: create the subscription unless it still exists. */
async function activate(): Promise<void> {
	if (!(await trigger.runWebhookMethod('checkExists'))) expect(await trigger.runWebhookMethod('create')).toBe(true);
}

describe('activation and deactivation', () => {
	it('create subscribes the webhook URL to the selected events and keeps the id and secret in static data', async () => {
		expect(await trigger.runWebhookMethod('checkExists')).toBe(false);
		expect(await trigger.runWebhookMethod('create')).toBe(true);

		expect(trigger.staticData).toEqual({
			webhookId: expect.stringMatching(/^wh_/),
			webhookSecret: expect.stringMatching(/^whsec_/),
			webhookInstance: t.instanceId,
			// The gateway listed webhook-signature among its signature headers: deliveries must carry it.
			standardWebhooks: true,
		});
		const { webhookId } = trigger.staticData;
		expect(trigger.webhookUrl()).toBe(`${receiver.base}/webhook/5f0b6d2e-3c1a-4b7e-9d8f-2a6c4e1b7d90/webhook`);
		expect(await subscriptions()).toEqual([
			expect.objectContaining({
				id: webhookId,
				destination_url: trigger.webhookUrl(),
				events: expect.arrayContaining(['message.received', 'recipient.opted_out', 'message.delivered']),
				instance_id: t.instanceId,
				enabled: true,
			}),
		]);
		expect((await subscriptions())[0].events).toHaveLength(3);
	});

	it('without an instance the subscription covers every instance of the account', async () => {
		trigger.parameters = { recommendedEvents: ['message.received'] };
		await activate();

		expect(await subscriptions()).toEqual([
			expect.objectContaining({ events: ['message.received'], instance_id: null }),
		]);
	});

	it('checkExists is true while the subscription is there: a restart of n8n creates nothing new', async () => {
		await activate();
		const before = trigger.staticData;

		expect(await trigger.runWebhookMethod('checkExists')).toBe(true);
		await activate();

		expect(trigger.staticData).toEqual(before);
		expect((await subscriptions()).map((webhook) => webhook.id)).toEqual([before.webhookId]);
	});

	it('checkExists is false when the subscription was deleted at the gateway, and forgets it', async () => {
		await activate();
		expect((await gateway('DELETE', `/api/webhooks/${String(trigger.staticData.webhookId)}`)).status).toBe(200);

		expect(await trigger.runWebhookMethod('checkExists')).toBe(false);
		expect(trigger.staticData).toEqual({});
	});

	it('checkExists is false when the selected events changed: the old subscription is removed, a new one created', async () => {
		await activate();
		const old = String(trigger.staticData.webhookId);
		trigger.parameters = { ...trigger.parameters, callEvents: ['call.missed'] };

		expect(await trigger.runWebhookMethod('checkExists')).toBe(false);
		expect(trigger.staticData).toEqual({});
		expect(await subscriptions()).toEqual([]);

		await activate();
		expect(await subscriptions()).toEqual([
			expect.objectContaining({ events: expect.arrayContaining(['call.missed', 'message.received']) }),
		]);
		expect(trigger.staticData.webhookId).not.toBe(old);
	});

	it('checkExists is false when the instance changed', async () => {
		await activate();
		const billing = t.gateway.instances.create({
			accountId: t.accountId,
			name: 'billing-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		trigger.parameters = { ...trigger.parameters, instance: { __rl: true, mode: 'id', value: 'billing-line' } };

		expect(await trigger.runWebhookMethod('checkExists')).toBe(false);
		await activate();

		expect(await subscriptions()).toEqual([expect.objectContaining({ instance_id: billing.id })]);
		// Selected by name, the subscription is still recognised as the same one afterwards.
		expect(await trigger.runWebhookMethod('checkExists')).toBe(true);
	});

	it('checkExists is false when the webhook URL changed (n8n moved), the old subscription is removed', async () => {
		await activate();
		const moved = createTriggerHarness({
			parameters: trigger.parameters,
			credentials: { whatsAppGatewayApi: { baseUrl: server.url, apiKey: t.apiKey } },
			webhookBaseUrl: 'https://n8n.example.com/webhook',
		});
		moved.staticData = trigger.staticData;

		expect(await moved.runWebhookMethod('checkExists')).toBe(false);
		expect(await subscriptions()).toEqual([]);
	});

	it('delete removes the subscription (404 afterwards) and clears the static data', async () => {
		await activate();
		const id = String(trigger.staticData.webhookId);

		expect(await trigger.runWebhookMethod('delete')).toBe(true);

		expect((await gateway('GET', `/api/webhooks/${id}`)).status).toBe(404);
		expect(trigger.staticData).toEqual({});
		// Deactivating again (or after the gateway lost it) is not an error.
		expect(await trigger.runWebhookMethod('delete')).toBe(true);
	});

	it('create without any selected event is refused before calling the gateway', async () => {
		trigger.parameters = { recommendedEvents: [] };

		await expect(trigger.runWebhookMethod('create')).rejects.toThrow('Select at least one event to listen for');
		expect(await subscriptions()).toEqual([]);
	});
});

describe('webhook(): deliveries', () => {
	let inbound = 0;

	/** A WhatsApp user writes to the instance; the gateway's worker delivers the event to the trigger's URL. */
	async function realDelivery(text = 'Where is my order #2041?'): Promise<WebhookRequest> {
		t.gateway.deliveries.start();
		inbound += 1;
		await t.gateway.inbound.receiveMessage({
			instanceId: t.instanceId,
			providerMessageId: `wamid.test-${inbound}`,
			from: PHONE,
			text,
		});
		await t.gateway.deliveries.idle();
		const delivery = receiver.received.at(-1);
		if (!delivery) throw new Error('the gateway delivered nothing');
		return { headers: delivery.headers, rawBody: delivery.raw, body: JSON.parse(delivery.raw.toString('utf8')) };
	}

	beforeEach(() => activate());

	it('a signed delivery starts the workflow with the event and its delivery id', async () => {
		const request = await realDelivery();
		expect(receiver.received).toHaveLength(1);

		const { result, response } = await trigger.receive(request);

		expect(result).toEqual({
			workflowData: [[{ json: { ...request.body, delivery_id: request.headers[SIGNATURE_HEADERS_LOWER.delivery] } }]],
		});
		expect(result.workflowData?.[0][0].json).toMatchObject({
			event: 'message.received',
			instance_id: t.instanceId,
			from: PHONE,
			message_text: 'Where is my order #2041?',
			delivery_id: expect.stringMatching(/^evt_/),
		});
		// n8n answers the gateway itself (response mode "on received").
		expect(response).toEqual({ statusCode: undefined, body: undefined, ended: false });
	});

	/** Signs a request again in both schemes, exactly as the gateway does (its webhook-id kept unless given). */
	const sign = (
		request: WebhookRequest,
		secret: string,
		timestamp: string,
		rawBody = request.rawBody,
		id = String(request.headers[STANDARD_WEBHOOK_HEADERS.id]),
	) => ({
		...request,
		rawBody,
		headers: {
			...request.headers,
			[SIGNATURE_HEADERS_LOWER.timestamp]: timestamp,
			[SIGNATURE_HEADERS_LOWER.signature]: computeSignature(secret, timestamp, rawBody),
			[STANDARD_WEBHOOK_HEADERS.id]: id,
			[STANDARD_WEBHOOK_HEADERS.timestamp]: timestamp,
			[STANDARD_WEBHOOK_HEADERS.signature]: computeStandardSignature(secret, id, timestamp, rawBody),
		},
	});

	const withoutHeader = (request: WebhookRequest, ...names: string[]): WebhookRequest => {
		const headers = { ...request.headers };
		for (const name of names) delete headers[name];
		return { ...request, headers };
	};

	/** A captured delivery sent again under a new delivery id, as an attacker can without the secret. */
	const withNewId = (request: WebhookRequest, id: string): WebhookRequest => ({
		...request,
		headers: { ...request.headers, [SIGNATURE_HEADERS_LOWER.delivery]: id, [STANDARD_WEBHOOK_HEADERS.id]: id },
	});

	const seedOnly = (request: WebhookRequest) =>
		withoutHeader(
			request,
			STANDARD_WEBHOOK_HEADERS.id,
			STANDARD_WEBHOOK_HEADERS.timestamp,
			STANDARD_WEBHOOK_HEADERS.signature,
		);

	const tampered: [string, (request: WebhookRequest) => WebhookRequest][] = [
		[
			'signatures made with another secret',
			(request) => sign(request, 'whsec_not-the-one', String(request.headers[SIGNATURE_HEADERS_LOWER.timestamp])),
		],
		[
			'a webhook-signature made with another secret beside a good seed signature',
			(request) => ({
				...request,
				headers: {
					...request.headers,
					[STANDARD_WEBHOOK_HEADERS.signature]: String(
						sign(request, 'whsec_not-the-one', String(request.headers[SIGNATURE_HEADERS_LOWER.timestamp])).headers[
							STANDARD_WEBHOOK_HEADERS.signature
						],
					),
				},
			}),
		],
		[
			'a timestamp more than 300 s old (correctly signed)',
			(request) => sign(request, String(trigger.staticData.webhookSecret), String(Math.floor(Date.now() / 1000) - 301)),
		],
		[
			'a timestamp more than 300 s ahead (correctly signed)',
			(request) => sign(request, String(trigger.staticData.webhookSecret), String(Math.floor(Date.now() / 1000) + 301)),
		],
		[
			'one changed byte of the body',
			(request) => {
				const rawBody = Buffer.from(request.rawBody);
				const at = rawBody.indexOf('#2041');
				rawBody[at + 1] = '3'.charCodeAt(0);
				return { ...request, rawBody, body: JSON.parse(rawBody.toString('utf8')) };
			},
		],
		[
			'no signature headers',
			(request) => withoutHeader(request, SIGNATURE_HEADERS_LOWER.signature, STANDARD_WEBHOOK_HEADERS.signature),
		],
		['no webhook-signature header', (request) => withoutHeader(request, STANDARD_WEBHOOK_HEADERS.signature)],
		[
			'no timestamp headers',
			(request) => withoutHeader(request, SIGNATURE_HEADERS_LOWER.timestamp, STANDARD_WEBHOOK_HEADERS.timestamp),
		],
		['no webhook-id header', (request) => withoutHeader(request, STANDARD_WEBHOOK_HEADERS.id)],
		['a new webhook-id and delivery id on a captured delivery', (request) => withNewId(request, 'evt_replayed')],
		['only the seed headers, with a new delivery id', (request) => seedOnly(withNewId(request, 'evt_replayed'))],
		[
			'no secret in the static data',
			(request) => {
				trigger.staticData = { webhookId: trigger.staticData.webhookId };
				return request;
			},
		],
	];

	it.each(tampered)('%s: 401, nothing started', async (_label, tamper) => {
		const request = tamper(await realDelivery());

		const { result, response } = await trigger.receive(request);

		expect(result).toEqual({ noWebhookResponse: true });
		expect(response).toEqual({ statusCode: 401, body: { success: false, error: 'invalid_signature' }, ended: true });
	});

	it('re-signed with the stored secret, even 295 s old, a delivery passes: the cases above fail for what was tampered', async () => {
		const request = await realDelivery();
		const timestamp = String(request.headers[SIGNATURE_HEADERS_LOWER.timestamp]);
		const secret = String(trigger.staticData.webhookSecret);
		// The helper signs exactly as the gateway does.
		const again = sign(request, secret, timestamp).headers;
		expect(again[SIGNATURE_HEADERS_LOWER.signature]).toBe(request.headers[SIGNATURE_HEADERS_LOWER.signature]);
		expect(again[STANDARD_WEBHOOK_HEADERS.signature]).toBe(request.headers[STANDARD_WEBHOOK_HEADERS.signature]);

		const { result } = await trigger.receive(sign(request, secret, String(Math.floor(Date.now() / 1000) - 295)));

		expect(result.workflowData).toHaveLength(1);
	});

	it('a repeat of a delivery (same X-WhatsApp-Gateway-Delivery) is acknowledged and starts nothing; the next one starts', async () => {
		const request = await realDelivery();
		const deliveryId = String(request.headers[SIGNATURE_HEADERS_LOWER.delivery]);
		expect((await trigger.receive(request)).result.workflowData).toHaveLength(1);
		expect(trigger.staticData.recentDeliveryIds).toEqual([deliveryId]);

		// The gateway's retry: the same event id, signed again.
		const retry = sign(request, String(trigger.staticData.webhookSecret), String(Math.floor(Date.now() / 1000)));
		const { result, response } = await trigger.receive(retry);
		expect(result).toEqual({ webhookResponse: { success: true, duplicate: true } });
		expect(response).toEqual({ statusCode: undefined, body: undefined, ended: false });

		const next = await realDelivery('And my invoice?');
		expect(next.headers[SIGNATURE_HEADERS_LOWER.delivery]).not.toBe(deliveryId);
		expect((await trigger.receive(next)).result.workflowData?.[0][0].json).toMatchObject({
			message_text: 'And my invoice?',
		});
		expect(trigger.staticData.recentDeliveryIds).toEqual([deliveryId, next.headers[SIGNATURE_HEADERS_LOWER.delivery]]);
	});

	it(`remembers the latest ${REMEMBERED_DELIVERIES} delivery ids, dropping the oldest`, async () => {
		const request = await realDelivery();
		const older = Array.from({ length: REMEMBERED_DELIVERIES }, (_, i) => `evt_older_${i}`);
		trigger.staticData = { ...trigger.staticData, recentDeliveryIds: older };

		expect((await trigger.receive(request)).result.workflowData).toHaveLength(1);
		const remembered = trigger.staticData.recentDeliveryIds as string[];
		expect(remembered).toHaveLength(REMEMBERED_DELIVERIES);
		expect(remembered).toEqual([...older.slice(1), request.headers[SIGNATURE_HEADERS_LOWER.delivery]]);
		expect(remembered).not.toContain('evt_older_0');
		expect((await trigger.receive({ ...request, headers: { ...request.headers } })).result).toEqual({
			webhookResponse: { success: true, duplicate: true },
		});
	});

	it('an unsigned repeat of a known delivery id is still refused with 401 first', async () => {
		const request = await realDelivery();
		expect((await trigger.receive(request)).result.workflowData).toHaveLength(1);
		const { result, response } = await trigger.receive(
			withoutHeader(request, SIGNATURE_HEADERS_LOWER.signature, STANDARD_WEBHOOK_HEADERS.signature),
		);
		expect(result).toEqual({ noWebhookResponse: true });
		expect(response.statusCode).toBe(401);
	});

	describe('replays (the delivery id is signed by webhook-signature)', () => {
		it('a captured delivery sent again with the seed headers only and a new delivery id is refused (401)', async () => {
			const request = await realDelivery();
			expect((await trigger.receive(request)).result.workflowData).toHaveLength(1);

			// Valid for the seed's verifier (the seed's signature does not cover the delivery id) ...
			const replay = seedOnly(withNewId(request, 'evt_replayed_0000000000000'));
			// ... but the subscription is known to carry webhook-signature, so its absence is refused.
			const { result, response } = await trigger.receive(replay);
			expect(result).toEqual({ noWebhookResponse: true });
			expect(response.statusCode).toBe(401);
		});

		it(`a captured delivery replayed as it is after ${REMEMBERED_DELIVERIES} others is still a duplicate while its timestamp is valid`, async () => {
			const request = await realDelivery();
			expect((await trigger.receive(request)).result.workflowData).toHaveLength(1);
			const secret = String(trigger.staticData.webhookSecret);
			const now = String(Math.floor(Date.now() / 1000));
			for (let i = 0; i < REMEMBERED_DELIVERIES + 50; i++) {
				const other = sign(withNewId(request, `evt_other_${i}`), secret, now);
				expect((await trigger.receive(other)).result.workflowData).toHaveLength(1);
			}
			expect(trigger.staticData.recentDeliveryIds).not.toContain(request.headers[STANDARD_WEBHOOK_HEADERS.id]);

			expect((await trigger.receive(request)).result).toEqual({ webhookResponse: { success: true, duplicate: true } });
		});

		it('a trigger activated before the gateway signed Standard Webhooks accepts seed-only deliveries until checkExists sees the new headers', async () => {
			const request = await realDelivery();
			const { standardWebhooks: _, ...older } = trigger.staticData;
			trigger.staticData = older;
			expect((await trigger.receive(seedOnly(request))).result.workflowData).toHaveLength(1);

			// n8n checks the subscription on its next start or activation: the gateway lists webhook-signature.
			expect(await trigger.runWebhookMethod('checkExists')).toBe(true);
			expect(trigger.staticData.standardWebhooks).toBe(true);
			const next = await realDelivery('And my invoice?');
			expect((await trigger.receive(seedOnly(next))).response.statusCode).toBe(401);
			expect((await trigger.receive(next)).result.workflowData).toHaveLength(1);
		});
	});

	describe('a rotated secret', () => {
		const rotate = async (overlapSeconds: number) => {
			const response = await fetch(`${server.url}/api/webhooks/${String(trigger.staticData.webhookId)}/rotate-secret`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${t.apiKey}`, 'Content-Type': 'application/json' },
				body: JSON.stringify({ overlap_seconds: overlapSeconds }),
			});
			expect(response.status).toBe(200);
			return ((await response.json()) as { signing_secret: string }).signing_secret;
		};

		it('still verifies with the secret the trigger holds during the overlap, and is refused after it', async () => {
			const fresh = await rotate(60);
			expect(fresh).not.toBe(trigger.staticData.webhookSecret);

			const during = await realDelivery();
			expect(String(during.headers[STANDARD_WEBHOOK_HEADERS.signature]).split(' ')).toHaveLength(2);
			expect((await trigger.receive(during)).result.workflowData).toHaveLength(1);

			// The gateway's clock passes the overlap (61 s: still inside the trigger's 300 s tolerance).
			t.clock.advance(61_000);
			const after = await realDelivery('And my invoice?');
			expect(String(after.headers[STANDARD_WEBHOOK_HEADERS.signature]).split(' ')).toHaveLength(1);
			const { result, response } = await trigger.receive(after);
			expect(result).toEqual({ noWebhookResponse: true });
			expect(response.statusCode).toBe(401);

			// Re-activating the workflow gives the trigger a subscription, and a secret, of its own again.
			expect(await trigger.runWebhookMethod('delete')).toBe(true);
			await activate();
			expect((await trigger.receive(await realDelivery('Third time'))).result.workflowData).toHaveLength(1);
		});
	});

	it('an event the node no longer selects is acknowledged but starts nothing', async () => {
		const request = await realDelivery();
		trigger.parameters = { ...trigger.parameters, recommendedEvents: ['message.sent'] };

		const { result, response } = await trigger.receive(request);

		expect(result).toEqual({});
		expect(response).toEqual({ statusCode: undefined, body: undefined, ended: false });
	});
});
