/**
 * Status reports of real providers that the send's answer does not tell (issue 24, items 8 and 9): a send
 * Meta or Evolution accepted and gave up on later (`failed` with Meta's `errors[]`, Evolution's `ERROR`)
 * ends as message.failed with the code and reason a refusal at send time gets, and a report that reaches
 * the gateway before the send's outcome is committed is held and applied once it is. The race is driven by
 * the fakes, which post the provider's webhooks and wait for the gateway's answer before they answer the
 * send: no sleeps.
 */
import statusSent from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-delivered.json';
import statusRead from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-read.json';
import failed131047 from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-failed-131047.json';
import failed131026 from '../fixtures/providers/meta-cloud-api-v23.0-webhook-status-failed-131026.json';
import reEngagement from '../fixtures/providers/meta-cloud-api-v23.0-error-131047-re-engagement.json';
import sendMessage from '../fixtures/providers/evolution-api-v2.3.6-send-message.json';
import updateDelivered from '../fixtures/providers/evolution-api-v2.3.6-messages-update-delivery-ack.json';
import updateError from '../fixtures/providers/evolution-api-v2.3.6-messages-update-error.json';
import { EvolutionApiFake } from '../fakes/evolution-api';
import { GraphApiFake } from '../fakes/graph-api';
import { startProviderGateway, type ProviderGateway } from '../helpers/provider-gateway';
import { HELD_STATUS_TTL_MS } from '../../server/src/events/status-reports';
import type { Instance } from '../../server/src/instances/service';

const PHONE_NUMBER_ID = '106540352242922';
const ACCESS_TOKEN = 'EAAG-cloud-access-token-SECRET-1234567890';
const APP_SECRET = 'meta-app-secret-SECRET-abcdef0123456789';
const GLOBAL_KEY = 'evolution-global-key-SECRET-7f3a9c';
const PHONE = '+966501234567';

type CloudNotification = typeof failed131047;

let graph: GraphApiFake;
let evolution: EvolutionApiFake;
let gw: ProviderGateway;

const sendBody = (instance: string, overrides: Record<string, unknown> = {}) => ({
	instance_id: instance,
	phone: PHONE,
	message: 'Your order #2041 has been shipped.',
	message_purpose: 'transactional',
	...overrides,
});

/** A Cloud status notification (a fixture) about message `id`, with its status (and time) replaced when given. */
function cloudStatus(fixture: unknown, id: string, change: { status?: string; timestamp?: string } = {}) {
	const copy = structuredClone(fixture) as CloudNotification;
	const status = copy.entry[0].changes[0].value.statuses[0];
	Object.assign(status, { id, ...change });
	return copy;
}

/** A send's log entry and history as the operator sees them (the provider's detail included). */
function logged(logId: unknown) {
	const found = gw.gateway.messaging.log.find(gw.accountId, Number(logId));
	if (!found) throw new Error(`no log entry ${String(logId)}`);
	return found;
}

const messageEvents = (instanceId: string) =>
	gw.events(instanceId).filter((event) => event.type.startsWith('message.'));

const heldCount = () => gw.gateway.db.prepare('SELECT COUNT(*) FROM held_statuses').pluck().get() as number;

beforeEach(async () => {
	graph = await new GraphApiFake({ phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN }).start();
	evolution = await new EvolutionApiFake({ globalKey: GLOBAL_KEY }).start();
	gw = await startProviderGateway({ timeoutMs: 2_000, cloudGraphUrl: graph.graphUrl });
});

afterEach(async () => {
	await gw.close();
	await graph.stop();
	await evolution.stop();
});

async function cloudInstance(): Promise<{ instance: Instance; notify: (body: unknown) => Promise<{ body: unknown }> }> {
	const instance = gw.gateway.instances.create({
		accountId: gw.accountId,
		name: 'cloud-line',
		provider: 'cloud',
		connectionState: 'disconnected',
		providerSettings: { phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN, appSecret: APP_SECRET },
	});
	await gw.gateway.connector.connect(instance);
	const url = `${gw.url}/providers/cloud/${instance.id}`;
	return { instance, notify: (body) => GraphApiFake.notify(url, APP_SECRET, body) };
}

async function evolutionInstance(): Promise<Instance> {
	const instance = gw.gateway.instances.create({
		accountId: gw.accountId,
		name: 'support-line',
		provider: 'evolution',
		connectionState: 'disconnected',
		providerSettings: { baseUrl: evolution.url, apiKey: GLOBAL_KEY, instanceName: 'support-line' },
	});
	await gw.gateway.connector.connect(instance);
	await evolution.scan('support-line');
	return instance;
}

const evolutionUpdate = (fixture: typeof updateDelivered, id: string) => ({
	...fixture,
	data: { ...fixture.data, keyId: id },
});
const evolutionSent = (id: string) => ({
	...sendMessage,
	data: { ...sendMessage.data, key: { ...sendMessage.data.key, id } },
});

describe('late failures (item 8)', () => {
	it('Cloud failed with errors[] → message.failed with the send-time code and reason; the log keeps Meta’s detail', async () => {
		const { instance, notify } = await cloudInstance();
		const sent = await gw.send(sendBody('cloud-line'));
		const id = String(sent.body.message_id);
		expect(await notify(cloudStatus(failed131047, id))).toMatchObject({ body: { duplicate: false } });

		const late = messageEvents(instance.id).slice(1);
		expect(late.map((event) => event.type)).toEqual(['message.status_updated', 'message.failed']);
		expect(late[0].payload).toMatchObject({ status: 'failed', external_message_id: id });
		expect(late[1].payload).toMatchObject({
			to: PHONE,
			message_purpose: 'transactional',
			error_code: 'gateway_send_failed',
			reason: 'outside_customer_service_window',
			message_id: id,
			log_id: sent.body.log_id,
		});

		// A refusal of the same code at send time: the same code and reason (one table).
		graph.failures.set('966501234568', { status: 400, body: reEngagement });
		const refused = await gw.send(sendBody('cloud-line', { phone: '+966501234568' }));
		expect(refused.body).toMatchObject({
			error: 'gateway_send_failed',
			details: { reason: 'outside_customer_service_window' },
		});
		const atSend = messageEvents(instance.id).at(-1)!;
		expect(atSend.type).toBe('message.failed');
		expect(atSend.payload).toMatchObject({ error_code: 'gateway_send_failed', reason: late[1].payload.reason });

		const { entry, history } = logged(sent.body.log_id);
		expect(entry).toMatchObject({ status: 'failed', error_code: 'gateway_send_failed', http_status: 200 });
		expect(history.map((row) => row.status)).toEqual(['sent', 'failed']);
		expect(history[1].detail).toContain('131047');
		expect(history[1].detail).toContain('more than 24 hours have passed');
	});

	it('Cloud 131026 → recipient_not_on_whatsapp; a failure after read, or repeated, changes nothing', async () => {
		const { instance, notify } = await cloudInstance();
		const first = String((await gw.send(sendBody('cloud-line'))).body.message_id);
		await notify(cloudStatus(failed131026, first));
		expect(await notify(cloudStatus(failed131026, first))).toMatchObject({ body: { duplicate: true } });
		const read = String((await gw.send(sendBody('cloud-line', { phone: '+966501234569' }))).body.message_id);
		await notify(cloudStatus(statusRead, read));
		expect(await notify(cloudStatus(failed131026, read))).toMatchObject({ body: { duplicate: true } });
		const failures = messageEvents(instance.id).filter((event) => event.type === 'message.failed');
		expect(failures.map((event) => event.payload)).toEqual([
			expect.objectContaining({ reason: 'recipient_not_on_whatsapp', message_id: first }),
		]);
	});

	it('Evolution messages.update ERROR → message.failed (provider_rejected), the status kept in the history', async () => {
		const instance = await evolutionInstance();
		const sent = await gw.send(sendBody('support-line'));
		const id = String(sent.body.message_id);
		await evolution.deliver('support-line', evolutionUpdate(updateError, id));
		const late = messageEvents(instance.id).slice(1);
		expect(late.map((event) => event.type)).toEqual(['message.status_updated', 'message.failed']);
		expect(late[1].payload).toMatchObject({
			error_code: 'gateway_send_failed',
			reason: 'provider_rejected',
			message_id: id,
		});
		const { history } = logged(sent.body.log_id);
		expect(history.at(-1)).toMatchObject({ status: 'failed', detail: 'evolution status ERROR' });
	});

	it('a status never sorts before the one it follows: Meta’s whole seconds, and the same second twice', async () => {
		const { instance, notify } = await cloudInstance();
		// The send is answered 250 ms into the second Meta's reports name.
		gw.clock.set('2025-10-21T10:16:40.250Z');
		const sent = await gw.send(sendBody('cloud-line'));
		const id = String(sent.body.message_id);
		await notify(cloudStatus(statusSent, id, { status: 'delivered', timestamp: '1761041800' }));
		await notify(cloudStatus(statusRead, id, { timestamp: '1761041800' }));
		const times = logged(sent.body.log_id).history.map((row) => row.created_at);
		expect(times).toEqual([Date.parse('2025-10-21T10:16:40.250Z'), times[0] + 1, times[0] + 2]);
		const stamps = messageEvents(instance.id).map((event) => String(event.payload.timestamp));
		expect(stamps).toEqual([...stamps].sort());
		expect(new Set(stamps).size).toBe(3);
		// A later second is Meta's own.
		const later = String((await gw.send(sendBody('cloud-line', { phone: '+966501234570' }))).body.message_id);
		await notify(cloudStatus(statusSent, later, { status: 'delivered', timestamp: '1761041805' }));
		expect(messageEvents(instance.id).at(-1)?.payload.timestamp).toBe('2025-10-21T10:16:45.000Z');
	});
});

describe('status reports before the outcome (item 9)', () => {
	it('Cloud: delivered and read posted before Graph answers are held, then applied in order with the outcome', async () => {
		const { instance, notify } = await cloudInstance();
		const answers: unknown[] = [];
		graph.beforeSendAnswer = async (wamid) => {
			answers.push((await notify(cloudStatus(statusSent, wamid, { status: 'sent' }))).body);
			answers.push((await notify(cloudStatus(statusSent, wamid))).body);
			answers.push((await notify(cloudStatus(statusRead, wamid))).body);
			expect(heldCount()).toBe(3);
		};
		const sent = await gw.send(sendBody('cloud-line'));
		expect(sent.status).toBe(200);
		expect(answers).toEqual([
			expect.objectContaining({ duplicate: false }),
			expect.objectContaining({ duplicate: false }),
			expect.objectContaining({ duplicate: false }),
		]);
		expect(logged(sent.body.log_id).entry.status).toBe('read');
		expect(logged(sent.body.log_id).history.map((row) => row.status)).toEqual(['sent', 'delivered', 'read']);
		expect(messageEvents(instance.id).map((event) => event.type)).toEqual([
			'message.sent',
			'message.status_updated',
			'message.delivered',
			'message.status_updated',
			'message.read',
		]);
		expect(heldCount()).toBe(0);
	});

	it('Cloud: a failure posted before the answer ends the message as failed once the outcome lands', async () => {
		const { instance, notify } = await cloudInstance();
		graph.beforeSendAnswer = async (wamid) => {
			await notify(cloudStatus(failed131026, wamid));
		};
		const sent = await gw.send(sendBody('cloud-line'));
		expect(logged(sent.body.log_id).entry).toMatchObject({ status: 'failed', error_code: 'gateway_send_failed' });
		expect(messageEvents(instance.id).map((event) => event.type)).toEqual([
			'message.sent',
			'message.status_updated',
			'message.failed',
		]);
		expect(messageEvents(instance.id)[2].payload).toMatchObject({ reason: 'recipient_not_on_whatsapp' });
	});

	it('Evolution: send.message and DELIVERY_ACK emitted before the answer are applied once it is committed', async () => {
		const instance = await evolutionInstance();
		evolution.beforeSendAnswer = async (id) => {
			await evolution.deliver('support-line', evolutionSent(id));
			await evolution.deliver('support-line', evolutionUpdate(updateDelivered, id));
		};
		const sent = await gw.send(sendBody('support-line'));
		expect(logged(sent.body.log_id).entry.status).toBe('delivered');
		expect(messageEvents(instance.id).map((event) => event.type)).toEqual([
			'message.sent',
			'message.status_updated',
			'message.delivered',
		]);
		expect(heldCount()).toBe(0);
	});

	it('only while a send is with its provider; a held report nobody claims expires', async () => {
		const { notify } = await cloudInstance();
		// No send in flight: a report about a message the gateway never sent is not kept.
		expect(await notify(cloudStatus(statusSent, 'wamid.from-the-phone-app'))).toMatchObject({
			body: { duplicate: true },
		});
		expect(heldCount()).toBe(0);
		graph.beforeSendAnswer = async () => {
			await notify(cloudStatus(statusSent, 'wamid.another-client-of-the-number'));
		};
		await gw.send(sendBody('cloud-line'));
		expect(heldCount()).toBe(1);
		gw.clock.advance(HELD_STATUS_TTL_MS - 1);
		expect(gw.gateway.inbound.expireHeldStatuses()).toBe(0);
		gw.clock.advance(2);
		expect(gw.gateway.inbound.expireHeldStatuses()).toBe(1);
		expect(heldCount()).toBe(0);
	});
});
