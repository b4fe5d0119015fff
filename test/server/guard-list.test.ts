import { ApiError } from '../../server/src/http/errors';
import { contentHash } from '../../server/src/messaging/request';
import type { ParsedAttempt } from '../../server/src/messaging/attempt';
import type { SendRequest } from '../../server/src/messaging/request';
import { createTestGateway, PHONE, sendBody, type TestGateway } from '../helpers/gateway';
import { createThreecxGateway, CUSTOMER, type ThreecxTestGateway } from '../helpers/threecx';

let t: TestGateway;
afterEach(() => t?.close());

const logRows = (gateway: TestGateway['gateway']) =>
	gateway.db.prepare('SELECT source, status, error_code, message_purpose, phone FROM message_log ORDER BY id').all();

/**
 * The send pipeline's two shipped halves joined under the 3CX module, with no caller step of its own: what
 * any caller's list is made of. These tests are about the send path that runs a list (logging, the shared
 * quota, a guard that fails, the key's release), not about 3CX, whose own list the block above drives over HTTP.
 */
const threecxGuards = (t: TestGateway) => {
	const pipeline = t.gateway.messaging.pipeline;
	return pipeline.admission<ParsedAttempt>('threecx').pipe(pipeline.delivery());
};

function parsedAttempt(t: TestGateway, text: string): ParsedAttempt {
	const account = t.gateway.accounts.get(t.accountId);
	const request: SendRequest = { instanceRef: t.instanceId, phone: PHONE, text, purpose: 'support', media: undefined };
	return {
		now: t.clock.now(),
		account,
		apiKeyId: null,
		source: '3cx',
		idempotencyKey: undefined,
		asked: { instanceRef: t.instanceId, phone: PHONE, purpose: 'support', text },
		request,
		contentHash: contentHash(request),
	};
}

describe('one send-check order for every caller', () => {
	let tc: ThreecxTestGateway;
	afterEach(() => tc?.close());

	/** The same refusal from the API and from 3CX, for an attempt that several steps would refuse. */
	async function bothRefuse(status: number, code: string) {
		const api = await tc.send(
			sendBody({ phone: CUSTOMER, message: 'Your callback is booked.', message_purpose: 'support' }),
		);
		const threecx = await tc.post({
			event_type: 'outbound_message',
			customer_phone: CUSTOMER,
			message_text: 'Your callback is booked.',
			message_purpose: 'support',
		});
		expect({ api: [api.status, api.body.error], threecx: [threecx.status, threecx.body.error] }).toEqual({
			api: [status, code],
			threecx: [status, code],
		});
	}

	it('the API and 3CX refuse an attempt with the earliest step that refuses it: connection, suppression, quota, in that order', async () => {
		tc = await createThreecxGateway({ account: { threecx: true, dailyLimit: 1 } });
		await tc.customerWrites();
		// Use the day's one send, then break three later steps at once and mend them one by one.
		expect((await tc.send(sendBody({ phone: '+966501234568' }))).status).toBe(200);
		tc.gateway.suppressions.add(tc.accountId, CUSTOMER, 'asked to stop', 'manual');
		tc.gateway.instances.setConnectionState(tc.instanceId, 'disconnected');
		await bothRefuse(409, 'instance_not_connected');
		tc.gateway.instances.setConnectionState(tc.instanceId, 'connected');
		await bothRefuse(403, 'recipient_suppressed');
		tc.gateway.suppressions.remove(tc.accountId, CUSTOMER);
		await bothRefuse(429, 'daily_message_limit_exceeded');
		expect(tc.providerSends).toHaveLength(1);
	});

	it('a paused instance is refused before it is found disconnected, by both', async () => {
		tc = await createThreecxGateway({ account: { threecx: true } });
		await tc.customerWrites();
		tc.gateway.instances.setConnectionState(tc.instanceId, 'disconnected');
		tc.gateway.instances.pause(tc.instanceId, 'review');
		await bothRefuse(423, 'instance_paused_for_review');
		expect(tc.providerSends).toHaveLength(0);
	});
});

describe('the send path running a list composed from the send pipeline', () => {
	it('refuses with the module it requires, logged under its own source', async () => {
		t = createTestGateway({ account: { threecx: false } });
		const refusal = t.gateway.messaging.sends.send(
			parsedAttempt(t, 'Sorry we missed your call.'),
			threecxGuards(t),
			() => 'h1',
		);
		await expect(refusal).rejects.toMatchObject({ code: 'module_not_enabled', details: { module: 'threecx' } });
		await expect(refusal).rejects.toBeInstanceOf(ApiError);
		expect(logRows(t.gateway)).toEqual([
			{ source: '3cx', status: 'blocked', error_code: 'module_not_enabled', message_purpose: 'support', phone: PHONE },
		]);
	});

	it('sends through the shared steps, which count against the same quota as the API', async () => {
		t = createTestGateway({ account: { threecx: true, dailyLimit: 1 } });
		const answer = await t.gateway.messaging.sends.send(
			parsedAttempt(t, 'Sorry we missed your call.'),
			threecxGuards(t),
			() => 'h2',
		);
		expect(answer).toMatchObject({ status: 200, replayed: false, body: { success: true, status: 'sent' } });
		const api = await t.send({
			instance_id: 'demo-support-line',
			phone: '+966501234568',
			message: 'Your order shipped.',
			message_purpose: 'transactional',
		});
		expect(api.status).toBe(429);
		expect(api.body.error).toBe('daily_message_limit_exceeded');
		expect(logRows(t.gateway).map((row) => (row as { source: string }).source)).toEqual(['3cx', 'api']);
	});

	it('the shared suppression guard refuses a recipient who opted out', async () => {
		t = createTestGateway({ account: { threecx: true } });
		t.gateway.suppressions.add(t.accountId, PHONE, 'asked to stop', 'keyword');
		await expect(
			t.gateway.messaging.sends.send(parsedAttempt(t, 'Sorry we missed your call.'), threecxGuards(t), () => 'h3'),
		).rejects.toMatchObject({ code: 'recipient_suppressed' });
	});

	it('a guard that fails (not a refusal) fails its own send only: the batch it shared runs once, nobody else is run again', async () => {
		t = createTestGateway({ account: { threecx: true, instanceRatePerMinute: 1000 } });
		let runs = 0;
		const counted = threecxGuards(t).check(() => {
			runs += 1;
		});
		const broken = threecxGuards(t).check(() => {
			throw new TypeError('a bug in a guard');
		});
		const sends = t.gateway.messaging.sends;
		const [fine, failed] = await Promise.allSettled([
			sends.send(parsedAttempt(t, 'Sorry we missed your call.'), counted, () => 'h4'),
			sends.send(parsedAttempt(t, 'We will call you back.'), broken, () => 'h5'),
		]);
		expect(fine).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
		expect(failed).toMatchObject({ status: 'rejected', reason: new TypeError('a bug in a guard') });
		expect(runs).toBe(1);
	});

	it('an attempt that failed before the provider lets go of its key once: a retry that claimed it meanwhile keeps it', async () => {
		t = createTestGateway({ account: { threecx: true, recipientRatePerMinute: 1000 } });
		const sends = t.gateway.messaging.sends;
		const keyed = () => ({ ...parsedAttempt(t, 'Sorry we missed your call.'), idempotencyKey: 'call-7' });
		const sent: unknown[] = [];
		t.sandbox.onSend((item) => sent.push(item));
		// The first attempt's provider settings cannot be read (after its entry is committed, before the provider
		// is called); the retry arrives just then, so its claim shares the batch that frees the key.
		const providerSettings = t.gateway.instances.providerSettings.bind(t.gateway.instances);
		let retry: Promise<unknown> | undefined;
		t.gateway.instances.providerSettings = (id) => {
			if (!retry && !t.gateway.db.inTransaction) {
				queueMicrotask(() => {
					retry = sends.send(keyed(), threecxGuards(t), () => 'same request');
				});
				throw new Error('unreadable provider settings');
			}
			return providerSettings(id);
		};
		await expect(sends.send(keyed(), threecxGuards(t), () => 'same request')).rejects.toMatchObject({
			code: 'gateway_send_failed',
		});
		const retried = (await retry) as { status: number; body: object };
		expect(retried.status).toBe(200);
		// The key remembers the retry's answer: a third try replays it, nothing is sent again.
		const third = await sends.send(keyed(), threecxGuards(t), () => 'same request');
		expect(third).toEqual({ ...retried, replayed: true });
		expect(sent).toHaveLength(1);
	});
});
