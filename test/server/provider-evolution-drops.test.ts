/**
 * What the gateway leaves out of Evolution's reports, and says so: a QR code too long to draw (issue 24,
 * item 4), an `@lid` sender without a phone, and the webhook events Evolution can never deliver (item 10).
 */
import { Writable } from 'node:stream';
import upsertLid from '../fixtures/providers/evolution-api-v2.3.6-messages-upsert-lid.json';
import qrcodeUpdated from '../fixtures/providers/evolution-api-v2.3.6-qrcode-updated.json';
import webhookEvents from '../fixtures/providers/evolution-api-v2.3.6-webhook-events.json';
import { EvolutionApiFake } from '../fakes/evolution-api';
import { ADMIN_TOKEN, signIn } from '../helpers/dashboard';
import { createTestGateway } from '../helpers/gateway';
import { startProviderGateway, type ProviderGateway } from '../helpers/provider-gateway';
import type { Instance } from '../../server/src/instances/service';
import { createLogger } from '../../server/src/logger';
import { EVOLUTION_WEBHOOK_EVENTS } from '../../server/src/providers/evolution-webhook';
import { QR_CODE_MAX_BYTES } from '../../server/src/providers/qr-image';

const GLOBAL_KEY = 'evolution-global-key-SECRET-7f3a9c';
/** 8 KB: what an attack run had a provider report, four times what one QR code can hold. */
const HUGE_QR = `2@${'A'.repeat(8 * 1024)}`;

let evolution: EvolutionApiFake;
let gw: ProviderGateway;
let logged: Record<string, unknown>[];

beforeEach(async () => {
	logged = [];
	const sink = new Writable({
		write(chunk, _encoding, done) {
			for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line));
			done();
		},
	});
	evolution = await new EvolutionApiFake({ globalKey: GLOBAL_KEY }).start();
	gw = await startProviderGateway({ timeoutMs: 2_000 }, createLogger('info', sink));
});

afterEach(async () => {
	await gw.close();
	await evolution.stop();
});

async function evolutionInstance(name = 'support-line'): Promise<Instance> {
	return gw.gateway.instances.create({
		accountId: gw.accountId,
		name,
		provider: 'evolution',
		connectionState: 'disconnected',
		providerSettings: { baseUrl: evolution.url, apiKey: GLOBAL_KEY, instanceName: name },
	});
}

const warnings = () => logged.filter((line) => line.level === 40);

describe('a QR code too long to draw', () => {
	it('from qrcode.updated is ignored with a warning, and the QR route answers "no QR code" instead of 500', async () => {
		const instance = await evolutionInstance();
		await gw.gateway.connector.connect(instance);
		const good = gw.gateway.instances.qr(instance.id)?.code;
		expect((await gw.operator('GET', `/operator/instances/${instance.id}/qr`)).status).toBe(200);

		const huge = {
			...qrcodeUpdated,
			data: { ...qrcodeUpdated.data, qrcode: { ...qrcodeUpdated.data.qrcode, code: HUGE_QR } },
		};
		expect((await evolution.deliver('support-line', huge)).status).toBe(200);
		expect(gw.gateway.instances.qr(instance.id)?.code).toBe(good);
		expect(gw.events(instance.id).at(-1)).toMatchObject({
			type: 'instance.qr_updated',
			payload: { qr_available: false },
		});
		expect(warnings()).toEqual([
			expect.objectContaining({ instance_id: instance.id, bytes: HUGE_QR.length, limit_bytes: QR_CODE_MAX_BYTES }),
		]);
		expect((await gw.operator('GET', `/operator/instances/${instance.id}/qr`)).status).toBe(200);
	});

	it('in the connect answer is not offered, with a warning', async () => {
		evolution.qrCode = HUGE_QR;
		const instance = await evolutionInstance();
		const answer = await gw.operator('POST', `/operator/instances/${instance.id}/connect`);
		expect(answer.status).toBe(200);
		expect(answer.body).toMatchObject({ connection_state: 'connecting', qr_available: false, qr_image_url: null });
		expect(gw.gateway.instances.qr(instance.id)).toBeUndefined();
		expect(warnings()).toEqual([expect.objectContaining({ instance_id: instance.id, bytes: HUGE_QR.length })]);
	});

	it('already stored (kept before codes were bounded) answers 404 on the operator route, not 500', async () => {
		const instance = await evolutionInstance();
		gw.gateway.instances.setQr(instance.id, HUGE_QR, gw.clock.now());
		const answer = await gw.operator('GET', `/operator/instances/${instance.id}/qr`);
		expect(answer.status).toBe(404);
		expect(answer.body).toMatchObject({ error: 'not_found', details: { instance_id: instance.id } });
		expect(String((answer.body.details as { qr: string }).qr)).toContain('cannot be drawn');
	});

	it('the longest code that fits is still drawn', async () => {
		const instance = await evolutionInstance();
		gw.gateway.instances.setQr(instance.id, 'x'.repeat(QR_CODE_MAX_BYTES), gw.clock.now());
		const answer = await gw.operator('GET', `/operator/instances/${instance.id}/qr`);
		expect(answer.status).toBe(200);
		expect(answer.type).toBe('image/png');
	});
});

describe('the dashboard with a stored QR code too long to draw', () => {
	it('shows no QR image and its qr.png answers 404, not 500', async () => {
		const local = createTestGateway({ adminToken: ADMIN_TOKEN });
		try {
			const client = await signIn(local);
			const instance = local.gateway.instances.create({
				accountId: local.accountId,
				name: 'evo-line',
				provider: 'evolution',
				connectionState: 'qr',
				providerSettings: { baseUrl: 'http://127.0.0.1:9', apiKey: 'global-key', instanceName: 'evo-line' },
			});
			local.gateway.instances.setQr(instance.id, HUGE_QR, local.clock.now());
			const page = await client.get(`/instances/${instance.id}/manage?tab=connection&account=${local.accountId}`);
			expect(page.status).toBe(200);
			expect(page.text).not.toContain('data-qr-image');
			expect((await client.get(`/instances/${instance.id}/qr.png?account=${local.accountId}`)).status).toBe(404);
		} finally {
			local.close();
		}
	});
});

describe('@lid senders', () => {
	it('without an alternative address are dropped with a warning naming the instance and the message id, no phone', async () => {
		const instance = await evolutionInstance();
		await gw.gateway.connector.connect(instance);
		await evolution.scan('support-line');
		const key = { ...upsertLid.data.key, remoteJidAlt: undefined, senderPn: undefined };
		const bare = { ...upsertLid, data: { ...upsertLid.data, key } };
		expect((await evolution.deliver('support-line', bare)).status).toBe(200);
		expect(gw.events(instance.id).filter((event) => event.type === 'message.received')).toEqual([]);
		expect(warnings()).toEqual([
			expect.objectContaining({ instance_id: instance.id, provider_message_id: upsertLid.data.key.id }),
		]);
		const line = JSON.stringify(warnings()[0]);
		expect(line).not.toContain(upsertLid.data.key.remoteJid);
		expect(line).not.toContain(String(upsertLid.data.key.remoteJidAlt).split('@')[0]);

		// With the alternative address the same message arrives, and nothing is logged.
		logged.length = 0;
		expect((await evolution.deliver('support-line', upsertLid)).status).toBe(200);
		expect(gw.events(instance.id).filter((event) => event.type === 'message.received')).toHaveLength(1);
		expect(warnings()).toEqual([]);
	});
});

describe('the webhook subscription', () => {
	const upper = (event: string) => event.replace(/[.-]/g, '_').toUpperCase();

	it('names only events Evolution both accepts and emits (GROUP_UPDATE is accepted but never emitted)', () => {
		const emitted = new Set(webhookEvents.emitted.map(upper));
		for (const event of EVOLUTION_WEBHOOK_EVENTS) {
			expect({ event, accepted: webhookEvents.accepted.includes(event) }).toEqual({ event, accepted: true });
			expect({ event, emitted: emitted.has(event) }).toEqual({ event, emitted: true });
		}
	});

	it('receives the group events Evolution delivers; groups.update can reach no webhook', async () => {
		const instance = await evolutionInstance();
		await gw.gateway.connector.connect(instance);
		const subscribed = evolution.instances.get('support-line')?.webhook?.events ?? [];
		expect(subscribed).toEqual(expect.arrayContaining(['GROUPS_UPSERT', 'GROUP_PARTICIPANTS_UPDATE']));
		expect(webhookEvents.accepted).not.toContain(upper('groups.update'));
		expect(await evolution.emit('support-line', 'groups.update', [{ id: '120363041234567890@g.us' }])).toEqual({
			status: 0,
			body: 'not subscribed',
		});
	});
});
