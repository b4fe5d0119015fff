/**
 * Deliveries signed in both schemes (docs/events.md, "Verifying a delivery"): the seed's headers, valid for the
 * seed's verifier byte for byte, and Standard Webhooks' `webhook-id`, `webhook-timestamp` and `webhook-signature`,
 * which sign the delivery id too; and a subscription's secret rotated with an overlap, over the API and the CLI.
 */
import fs from 'node:fs';
import { SIGNATURE_HEADERS_LOWER, STANDARD_WEBHOOK_HEADERS } from '../../contract/src/signature';
import { cli, tempDir } from '../helpers/cli';
import { createTestGateway, PHONE, type TestGateway } from '../helpers/gateway';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { seedVerifyWebhookSignature } from '../helpers/seed-verifier';
import { officialLibraryVerifies } from '../helpers/standard-webhooks-verifier';

let t: TestGateway;
let receiver: Receiver;
let webhookId: string;
let secret: string;
let inbound = 0;

const auth = () => ({ Authorization: `Bearer ${t.apiKey}` });

beforeEach(async () => {
	t = createTestGateway();
	receiver = await startReceiver();
	const created = await t.http
		.post('/api/webhooks')
		.set({ ...auth(), 'Content-Type': 'application/json' })
		.send(JSON.stringify({ destination_url: receiver.url, events: ['message.received'] }));
	expect(created.status).toBe(201);
	webhookId = created.body.webhook.id;
	secret = created.body.signing_secret;
	t.gateway.deliveries.start();
});

afterEach(async () => {
	await t.gateway.deliveries.stop();
	await receiver.close();
	t.close();
});

/** A WhatsApp user writes; resolves with what the receiver got for it. */
async function deliver(text = 'Where is my order #2041?') {
	inbound += 1;
	const before = receiver.received.length;
	await t.gateway.inbound.receiveMessage({
		instanceId: t.instanceId,
		providerMessageId: `wamid.signing-${inbound}`,
		from: PHONE,
		text,
	});
	await receiver.waitFor(before + 1);
	return receiver.received[before];
}

const rotate = (body?: unknown) => {
	const call = t.http.post(`/api/webhooks/${webhookId}/rotate-secret`).set(auth());
	return body === undefined ? call : call.set('Content-Type', 'application/json').send(JSON.stringify(body));
};

const signaturesIn = (headers: Record<string, unknown>) =>
	String(headers[STANDARD_WEBHOOK_HEADERS.signature]).split(' ');

describe('every delivery carries both schemes', () => {
	it('the seed headers as before, and webhook-id, webhook-timestamp and webhook-signature beside them', async () => {
		const { headers, raw } = await deliver();
		const timestamp = String(headers[SIGNATURE_HEADERS_LOWER.timestamp]);

		expect(seedVerifyWebhookSignature(timestamp, raw, String(headers[SIGNATURE_HEADERS_LOWER.signature]), secret)).toBe(
			true,
		);
		expect(headers[STANDARD_WEBHOOK_HEADERS.id]).toBe(headers[SIGNATURE_HEADERS_LOWER.delivery]);
		expect(headers[STANDARD_WEBHOOK_HEADERS.id]).toMatch(/^evt_/);
		expect(headers[STANDARD_WEBHOOK_HEADERS.timestamp]).toBe(timestamp);
		expect(headers[STANDARD_WEBHOOK_HEADERS.signature]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
		// The official libraries take the signing secret exactly as the API returned it.
		expect(officialLibraryVerifies(secret, raw, headers)).toBe(true);
		// The id is signed: the same bytes under another id do not verify.
		expect(officialLibraryVerifies(secret, raw, { ...headers, [STANDARD_WEBHOOK_HEADERS.id]: 'evt_other' })).toBe(
			false,
		);
	});

	it('a retry keeps webhook-id and signs its own timestamp', async () => {
		receiver.reply({ status: 503 });
		const first = await deliver();
		await t.gateway.deliveries.idle();
		t.clock.advance(5_000);
		await t.gateway.deliveries.idle();
		await receiver.waitFor(2);
		const retry = receiver.received[1];

		expect(retry.headers[STANDARD_WEBHOOK_HEADERS.id]).toBe(first.headers[STANDARD_WEBHOOK_HEADERS.id]);
		expect(Number(retry.headers[STANDARD_WEBHOOK_HEADERS.timestamp])).toBe(
			Number(first.headers[STANDARD_WEBHOOK_HEADERS.timestamp]) + 5,
		);
		expect(officialLibraryVerifies(secret, retry.raw, retry.headers)).toBe(true);
	});

	it('the subscription lists the headers it is signed in', async () => {
		const shown = await t.http.get(`/api/webhooks/${webhookId}`).set(auth());
		expect(shown.body.webhook).toMatchObject({
			signature_headers: ['X-WhatsApp-Gateway-Signature', 'webhook-signature'],
			previous_secret_expires_at: null,
		});
	});
});

describe('rotating the signing secret', () => {
	it('POST /api/webhooks/{id}/rotate-secret: a new secret once, both sign for the overlap, then only the new one', async () => {
		const rotated = await rotate({ overlap_seconds: 3600 });
		expect(rotated.status).toBe(200);
		const fresh = rotated.body.signing_secret as string;
		expect(fresh).toMatch(/^whsec_[A-Za-z0-9]{40}$/);
		expect(fresh).not.toBe(secret);
		expect(rotated.body.webhook).toMatchObject({
			id: webhookId,
			previous_secret_expires_at: new Date(t.clock.now() + 3600_000).toISOString(),
		});
		// Shown once: the subscription never shows a secret again.
		expect(JSON.stringify((await t.http.get(`/api/webhooks/${webhookId}`).set(auth())).body)).not.toContain(fresh);

		const during = await deliver();
		expect(signaturesIn(during.headers)).toHaveLength(2);
		expect(officialLibraryVerifies(fresh, during.raw, during.headers)).toBe(true);
		expect(officialLibraryVerifies(secret, during.raw, during.headers)).toBe(true);
		// The seed's single signature is made with the new secret from the rotation on.
		const timestamp = String(during.headers[SIGNATURE_HEADERS_LOWER.timestamp]);
		const seedSignature = String(during.headers[SIGNATURE_HEADERS_LOWER.signature]);
		expect(seedVerifyWebhookSignature(timestamp, during.raw, seedSignature, fresh)).toBe(true);
		expect(seedVerifyWebhookSignature(timestamp, during.raw, seedSignature, secret)).toBe(false);

		t.clock.advance(3600_000);
		const after = await deliver('And my invoice?');
		expect(signaturesIn(after.headers)).toHaveLength(1);
		expect(officialLibraryVerifies(fresh, after.raw, after.headers)).toBe(true);
		expect(officialLibraryVerifies(secret, after.raw, after.headers)).toBe(false);
		expect((await t.http.get(`/api/webhooks/${webhookId}`).set(auth())).body.webhook.previous_secret_expires_at).toBe(
			null,
		);
	});

	it('without a body the overlap is a day; overlap_seconds 0 stops the old secret at once', async () => {
		const byDefault = await rotate();
		expect(byDefault.status).toBe(200);
		expect(byDefault.body.webhook.previous_secret_expires_at).toBe(new Date(t.clock.now() + 86_400_000).toISOString());

		const immediate = await rotate({ overlap_seconds: 0 });
		expect(immediate.body.webhook.previous_secret_expires_at).toBe(null);
		const { headers, raw } = await deliver();
		expect(signaturesIn(headers)).toHaveLength(1);
		expect(officialLibraryVerifies(immediate.body.signing_secret, raw, headers)).toBe(true);
		expect(officialLibraryVerifies(byDefault.body.signing_secret, raw, headers)).toBe(false);
	});

	it('a second rotation during an overlap ends it: only the secret being replaced still signs', async () => {
		const first = (await rotate({ overlap_seconds: 3600 })).body.signing_secret as string;
		const second = (await rotate({ overlap_seconds: 3600 })).body.signing_secret as string;
		const { headers, raw } = await deliver();
		expect(signaturesIn(headers)).toHaveLength(2);
		expect(officialLibraryVerifies(second, raw, headers)).toBe(true);
		expect(officialLibraryVerifies(first, raw, headers)).toBe(true);
		expect(officialLibraryVerifies(secret, raw, headers)).toBe(false);
	});

	it('refuses a bad overlap, another account’s subscription and a missing key', async () => {
		const refusals = [
			await rotate({ overlap_seconds: -1 }),
			await rotate({ overlap_seconds: 8 * 24 * 3600 }),
			await rotate({ overlap_seconds: 1.5 }),
			await rotate({ overlap: 60 }),
			await t.http.post('/api/webhooks/wh_nope/rotate-secret').set(auth()),
			await t.http.post(`/api/webhooks/${webhookId}/rotate-secret`),
		];
		expect(refusals.map((res) => [res.status, res.body.error])).toEqual([
			[422, 'validation_error'],
			[422, 'validation_error'],
			[422, 'validation_error'],
			[422, 'validation_error'],
			[404, 'not_found'],
			[401, 'invalid_api_key'],
		]);
		const { headers, raw } = await deliver();
		expect(officialLibraryVerifies(secret, raw, headers)).toBe(true);
	});

	it('the CLI: webhooks rotate-secret <id> [--overlap <seconds>] prints the new secret once', async () => {
		const dir = tempDir();
		try {
			await cli(dir, 'accounts', 'create', '--name', 'Shop');
			const created = await cli(
				dir,
				...['webhooks', 'create', '--account', '1', '--url', 'http://127.0.0.1:9/hook', '--events', 'message.received'],
				'--json',
			);
			const { id, signing_secret: first } = created.json() as { id: string; signing_secret: string };

			const rotated = await cli(dir, 'webhooks', 'rotate-secret', id, '--overlap', '600', '--json');
			expect(rotated.code).toBe(0);
			const shown = rotated.json() as Record<string, unknown>;
			expect(shown).toMatchObject({ id, signing_secret: expect.stringMatching(/^whsec_[A-Za-z0-9]{40}$/) });
			expect(shown.signing_secret).not.toBe(first);
			expect(Date.parse(String(shown.previous_secret_expires_at)) - Date.parse(String(shown.updated_at))).toBe(600_000);

			const human = await cli(dir, 'webhooks', 'rotate-secret', id, '--overlap', '0');
			expect(human.code).toBe(0);
			expect(human.stdout).toContain('The new signing secret is shown only this once. The old secret no longer signs.');
			const listed = (await cli(dir, 'webhooks', 'list', '--json')).json() as Record<string, unknown>[];
			expect(listed[0]).toMatchObject({ id, previous_secret_expires_at: null });
			expect(JSON.stringify(listed)).not.toContain('whsec_');

			const bad = await cli(dir, 'webhooks', 'rotate-secret', id, '--overlap', '604801');
			expect(bad.code).not.toBe(0);
			expect(bad.stderr).toContain('overlap_seconds');
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});
