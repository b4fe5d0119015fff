import { ApiError } from '../../server/src/http/errors';
import { contentHash } from '../../server/src/messaging/request';
import type { ParsedAttempt } from '../../server/src/messaging/attempt';
import {
	refuseBlockedContent,
	requireActiveInstance,
	requireActivePlan,
	requireModule,
} from '../../server/src/messaging/guards';
import { GuardList } from '../../server/src/messaging/pipeline';
import type { SendRequest } from '../../server/src/messaging/request';
import { createTestGateway, PHONE, type TestGateway } from '../helpers/gateway';

let t: TestGateway;
afterEach(() => t?.close());

const logRows = (gateway: TestGateway['gateway']) =>
	gateway.db.prepare('SELECT source, status, error_code, message_purpose, phone FROM message_log ORDER BY id').all();

/**
 * A caller other than the API composes its own list from the shared guards, as the 3CX endpoint will:
 * its own parsing and module, then the shared instance, suppression, quota, velocity and policy steps.
 */
function otherCallerGuards(t: TestGateway) {
	const shared = t.gateway.messaging.guards;
	return GuardList.start<ParsedAttempt>()
		.check(requireModule('threecx'))
		.check(requireActivePlan)
		.then(shared.resolveInstance)
		.check(requireActiveInstance)
		.check(shared.requireNotSuppressed)
		.then(shared.enforceQuota)
		.then(shared.enforceVelocity)
		.then(shared.scoreContentPolicy)
		.check(refuseBlockedContent);
}

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

describe('a guard list composed by another caller', () => {
	it('refuses with the module it requires, logged under its own source', async () => {
		t = createTestGateway({ account: { threecx: false } });
		const refusal = t.gateway.messaging.sends.send(
			parsedAttempt(t, 'Sorry we missed your call.'),
			otherCallerGuards(t),
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
			otherCallerGuards(t),
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
			t.gateway.messaging.sends.send(parsedAttempt(t, 'Sorry we missed your call.'), otherCallerGuards(t), () => 'h3'),
		).rejects.toMatchObject({ code: 'recipient_suppressed' });
	});

	it('a guard that fails (not a refusal) fails its own send only: the batch it shared runs once, nobody else is run again', async () => {
		t = createTestGateway({ account: { threecx: true, instanceRatePerMinute: 1000 } });
		let runs = 0;
		const counted = otherCallerGuards(t).check(() => {
			runs += 1;
		});
		const broken = otherCallerGuards(t).check(() => {
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
					retry = sends.send(keyed(), otherCallerGuards(t), () => 'same request');
				});
				throw new Error('unreadable provider settings');
			}
			return providerSettings(id);
		};
		await expect(sends.send(keyed(), otherCallerGuards(t), () => 'same request')).rejects.toMatchObject({
			code: 'gateway_send_failed',
		});
		const retried = (await retry) as { status: number; body: object };
		expect(retried.status).toBe(200);
		// The key remembers the retry's answer: a third try replays it, nothing is sent again.
		const third = await sends.send(keyed(), otherCallerGuards(t), () => 'same request');
		expect(third).toEqual({ ...retried, replayed: true });
		expect(sent).toHaveLength(1);
	});
});
