import { ERROR_TABLE, type ErrorCode } from '../../server/src/http/errors';
import { ProviderError } from '../../server/src/providers/types';
import { createTestGateway, PHONE, sendBody, type TestGateway } from '../helpers/gateway';

let t: TestGateway;
afterEach(() => t?.close());

function expectError(res: { status: number; body: Record<string, unknown> }, code: ErrorCode) {
	expect({ status: res.status, error: res.body.error, message: res.body.message, success: res.body.success }).toEqual({
		status: ERROR_TABLE[code].status,
		error: code,
		message: ERROR_TABLE[code].message,
		success: false,
	});
	expect(res.body.details).toEqual(expect.any(Object));
}

function logRows(g: TestGateway) {
	return g.gateway.db
		.prepare('SELECT status, error_code, http_status, phone, message_purpose FROM message_log ORDER BY id')
		.all() as {
		status: string;
		error_code: string | null;
		http_status: number;
		phone: string | null;
		message_purpose: string | null;
	}[];
}

const phoneN = (n: number) => `+9665${String(10000000 + n)}`;

describe('steps 1–3: content type, key, JSON', () => {
	it('415 unsupported_media_type for a non-JSON content type, before the key is looked at', async () => {
		t = createTestGateway();
		const res = await t.http.post('/api/send-message').set('Content-Type', 'text/plain').send('hello');
		expectError(res, 'unsupported_media_type');
		expect(logRows(t)).toHaveLength(0);
	});

	it('401 invalid_api_key for a missing, malformed or unknown key; nothing logged', async () => {
		t = createTestGateway();
		for (const authorization of [undefined, 'Basic abc', 'Bearer', `Bearer ${t.apiKey}x`]) {
			let call = t.http.post('/api/send-message').set('Content-Type', 'application/json');
			if (authorization) call = call.set('Authorization', authorization);
			expectError(await call.send(JSON.stringify(sendBody())), 'invalid_api_key');
		}
		expect(logRows(t)).toHaveLength(0);
	});

	it('401 revoked_api_key once the key is revoked, from the very next request', async () => {
		t = createTestGateway();
		expect((await t.send(sendBody())).status).toBe(200);
		const [key] = t.gateway.accounts.listKeys(t.accountId);
		t.gateway.accounts.revokeKey(key.id);
		expectError(await t.send(sendBody()), 'revoked_api_key');
	});

	it('400 invalid_json after authentication, and the attempt is logged', async () => {
		t = createTestGateway();
		expectError(await t.send('{"instance_id": '), 'invalid_json');
		expect(logRows(t)).toEqual([
			expect.objectContaining({ status: 'blocked', error_code: 'invalid_json', http_status: 400 }),
		]);
	});

	it('accepts application/json with a charset parameter', async () => {
		t = createTestGateway();
		const res = await t.send(sendBody(), { 'Content-Type': 'application/json; charset=utf-8' });
		expect(res.status).toBe(200);
	});
});

describe('steps 4–5: module and plan', () => {
	it('403 module_not_enabled when API access is off for the account, and back on with the plan default', async () => {
		t = createTestGateway();
		t.gateway.accounts.update(t.accountId, { apiAccess: false });
		const res = await t.send(sendBody());
		expectError(res, 'module_not_enabled');
		expect(res.body.details).toEqual({ module: 'api_access' });
		t.gateway.accounts.update(t.accountId, { apiAccess: null });
		expect((await t.send(sendBody())).status).toBe(200);
	});

	it('403 active_plan_required when the plan is inactive; module is checked first', async () => {
		t = createTestGateway();
		t.gateway.accounts.update(t.accountId, { planActive: false });
		expectError(await t.send(sendBody()), 'active_plan_required');
		t.gateway.accounts.update(t.accountId, { apiAccess: false });
		expectError(await t.send(sendBody()), 'module_not_enabled');
	});
});

describe('step 6: message purpose', () => {
	it.each([[{}], [{ message_purpose: '' }], [{ message_purpose: '   ' }], [{ message_purpose: null }]])(
		'422 message_purpose_required for %j',
		async (purpose) => {
			t = createTestGateway();
			const body = sendBody();
			delete body.message_purpose;
			expectError(await t.send({ ...body, ...purpose }), 'message_purpose_required');
		},
	);

	it.each(['marketing', 'promotion', 'cold_outreach', 'bulk_campaign', 'political', 'unknown', 'newsletter'])(
		'422 message_purpose_not_allowed for %s',
		async (purpose) => {
			t = createTestGateway();
			const res = await t.send(sendBody({ message_purpose: purpose }));
			expectError(res, 'message_purpose_not_allowed');
			expect(res.body.details).toMatchObject({ message_purpose: purpose });
		},
	);

	it('is checked before the other fields', async () => {
		t = createTestGateway();
		expectError(await t.send({ message_purpose: 'marketing', unexpected: true }), 'message_purpose_not_allowed');
	});

	it.each(['transactional', 'operational', 'support', 'internal_team', 'authentication'])(
		'allows %s',
		async (purpose) => {
			t = createTestGateway();
			expect((await t.send(sendBody({ message_purpose: purpose }))).status).toBe(200);
		},
	);
});

describe('step 7: validation', () => {
	it('422 validation_error naming each failing field', async () => {
		t = createTestGateway();
		const res = await t.send({ message_purpose: 'support', phone: 'not a phone', message: '', extra: 1 });
		expectError(res, 'validation_error');
		expect(res.body.details.fields).toEqual({
			instance_id: 'is required',
			extra: 'is not a known field',
		});
	});

	it('names an impossible phone number', async () => {
		t = createTestGateway();
		for (const phone of ['+9665XXXXXXX', '+12', '12345', '+966 50 ABC 4567']) {
			const res = await t.send(sendBody({ phone }));
			expectError(res, 'validation_error');
			expect(Object.keys(res.body.details.fields)).toEqual(['phone']);
		}
	});

	it('rejects an empty text message and wrong types', async () => {
		t = createTestGateway();
		const empty = await t.send(sendBody({ message: '  ' }));
		expect(empty.body.details.fields).toEqual({ message: 'must not be empty' });
		const wrongType = await t.send(sendBody({ phone: 966501234567 }));
		expect(wrongType.body.details.fields).toEqual({ phone: 'must be a string' });
	});

	it('a JSON value that is not an object is a validation_error', async () => {
		t = createTestGateway();
		for (const body of ['[]', '"text"', '42', 'null']) {
			const res = await t.send(body);
			expectError(res, 'validation_error');
			expect(res.body.details.fields).toEqual({ body: 'must be a JSON object' });
		}
	});

	it('deeply nested JSON is a validation_error, not a crash (with or without an Idempotency-Key)', async () => {
		t = createTestGateway();
		const deep = `{"message_purpose":${'['.repeat(20000)}${']'.repeat(20000)}}`;
		for (const headers of [{}, { 'Idempotency-Key': 'deep' }] as Record<string, string>[]) {
			const res = await t.send(deep, headers);
			expectError(res, 'validation_error');
			expect(res.body.details.fields).toEqual({ body: 'must not be nested more than 32 levels deep' });
		}
		const webhook = await t.http
			.post('/api/webhooks')
			.set({ Authorization: `Bearer ${t.apiKey}`, 'Content-Type': 'application/json' })
			.send(`{"destination_url":"http://127.0.0.1:9/x","events":[${'['.repeat(20000)}${']'.repeat(20000)}]}`);
		expectError(webhook, 'validation_error');
	});

	it('a "__proto__" field is named like any unknown field', async () => {
		t = createTestGateway();
		const res = await t.send(
			'{"instance_id":"demo-support-line","phone":"+966501234567","message":"x","message_purpose":"support","__proto__":{"a":1}}',
		);
		expectError(res, 'validation_error');
		expect(Object.entries(res.body.details.fields)).toEqual([['__proto__', 'is not a known field']]);
	});

	it('normalizes phones to E.164, national numbers with the account default country', async () => {
		t = createTestGateway({ account: { defaultCountry: 'SA' } });
		for (const phone of ['+966 50 123 4567', '00966501234567', '0501234567', '(050) 123-4567']) {
			const res = await t.send(sendBody({ phone, message: `Order ${phone} shipped.` }));
			expect(res.status).toBe(200);
			t.clock.advance(60_000);
		}
		expect(new Set(logRows(t).map((row) => row.phone))).toEqual(new Set([PHONE]));
	});
});

describe('media', () => {
	const pdf = Buffer.from('%PDF-1.4 invoice').toString('base64');

	it('sends a document from base64 (data: prefix stripped) with the message as caption', async () => {
		t = createTestGateway();
		const sent: unknown[] = [];
		t.sandbox.onSend((send) => sent.push(send));
		const res = await t.send(
			sendBody({
				message: 'Your invoice INV-2041 is ready.',
				media_type: 'document',
				mime_type: 'application/pdf',
				file_name: 'INV-2041.pdf',
				media: `data:application/pdf;base64,${pdf}`,
			}),
		);
		expect(res.status).toBe(200);
		expect(sent).toEqual([
			expect.objectContaining({
				text: 'Your invoice INV-2041 is ready.',
				media: expect.objectContaining({
					type: 'document',
					mimeType: 'application/pdf',
					fileName: 'INV-2041.pdf',
					bytes: 16,
				}),
			}),
		]);
	});

	it('sends an image from an https URL with an empty caption', async () => {
		t = createTestGateway();
		const res = await t.send(
			sendBody({ message: '', media_type: 'image', mime_type: 'image/png', media: 'https://example.com/receipt.png' }),
		);
		expect(res.status).toBe(200);
	});

	it.each([
		[{ media_type: 'image', mime_type: 'image/png', media: 'http://example.com/a.png' }, 'media'],
		[{ media_type: 'image', mime_type: 'application/pdf', media: 'https://example.com/a.png' }, 'mime_type'],
		[{ media_type: 'document', mime_type: 'application/pdf', media: 'aGVsbG8=' }, 'file_name'],
		[{ media_type: 'video', media: 'aGVsbG8=' }, 'mime_type'],
		[{ mime_type: 'image/png', media: 'aGVsbG8=' }, 'media_type'],
		[{ media_type: 'sticker', mime_type: 'image/webp', media: 'aGVsbG8=' }, 'media_type'],
		[{ media_type: 'audio', mime_type: 'audio/ogg', media: 'not base64 !!' }, 'media'],
	])('refuses bad media %j naming %s', async (media, field) => {
		t = createTestGateway();
		const res = await t.send(sendBody(media));
		expectError(res, 'validation_error');
		expect(Object.keys(res.body.details.fields)).toContain(field);
	});

	it('refuses media larger than 16 MB once decoded', async () => {
		t = createTestGateway();
		const big = 'A'.repeat(Math.ceil(((16 * 1024 * 1024 + 3) * 4) / 3 / 4) * 4);
		const res = await t.send(
			sendBody({ media_type: 'document', mime_type: 'application/pdf', file_name: 'a.pdf', media: big }),
		);
		expectError(res, 'validation_error');
		expect(res.body.details.fields.media).toMatch(/16 MB/);
	});
});

describe('steps 8–10: instance, pause, suppression', () => {
	it('404 invalid_instance for another account’s instance, by id or name', async () => {
		t = createTestGateway();
		const other = t.gateway.accounts.create({ name: 'Other' });
		const theirs = t.gateway.instances.create({
			accountId: other.id,
			name: 'their-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		for (const ref of [theirs.id, 'their-line', 'missing'])
			expectError(await t.send(sendBody({ instance_id: ref })), 'invalid_instance');
		expect((await t.send(sendBody({ instance_id: t.instanceId }))).status).toBe(200);
	});

	it('423 instance_paused_for_review until resumed', async () => {
		t = createTestGateway();
		t.gateway.instances.pause(t.instanceId, 'operator review');
		const res = await t.send(sendBody());
		expectError(res, 'instance_paused_for_review');
		expect(res.body.details).toEqual({ instance_id: t.instanceId, reason: 'operator review' });
		t.gateway.instances.resume(t.instanceId);
		expect((await t.send(sendBody())).status).toBe(200);
	});

	it('403 recipient_suppressed whatever way the number is written', async () => {
		t = createTestGateway({ account: { defaultCountry: 'SA' } });
		t.gateway.suppressions.add(t.accountId, '+966 50 123 4567', 'asked to stop', 'manual');
		expectError(await t.send(sendBody({ phone: '0501234567' })), 'recipient_suppressed');
		t.gateway.suppressions.remove(t.accountId, PHONE);
		expect((await t.send(sendBody())).status).toBe(200);
	});
});

describe('step 11: quotas', () => {
	it('429 daily_message_limit_exceeded at the plan limit, with limit details and Retry-After to local midnight', async () => {
		t = createTestGateway({ account: { dailyLimit: 3, timeZone: 'Asia/Riyadh', recipientRatePerMinute: 1000 } });
		t.clock.set('2026-05-08T20:00:00Z'); // 23:00 in Riyadh (UTC+3)
		for (let i = 0; i < 3; i += 1)
			expect((await t.send(sendBody({ phone: phoneN(i), message: `Order ${i} shipped.` }))).status).toBe(200);
		const res = await t.send(sendBody({ phone: phoneN(9), message: 'Order 9 shipped.' }));
		expectError(res, 'daily_message_limit_exceeded');
		expect(res.body.details).toEqual({ action: 'block', risk_score: 90, limit: 3, used: 3 });
		expect(res.headers['retry-after']).toBe('3600');
		t.clock.set('2026-05-08T21:00:01Z'); // 00:00:01 on 9 May in Riyadh: a new day
		expect((await t.send(sendBody({ phone: phoneN(10), message: 'Order 10 shipped.' }))).status).toBe(200);
	});

	it('429 monthly_message_limit_exceeded counts the whole local month', async () => {
		t = createTestGateway({ account: { dailyLimit: 100, monthlyLimit: 2, recipientRatePerMinute: 1000 } });
		t.clock.set('2026-05-30T10:00:00Z');
		expect((await t.send(sendBody({ phone: phoneN(1), message: 'a' }))).status).toBe(200);
		t.clock.set('2026-05-31T10:00:00Z');
		expect((await t.send(sendBody({ phone: phoneN(2), message: 'b' }))).status).toBe(200);
		const res = await t.send(sendBody({ phone: phoneN(3), message: 'c' }));
		expectError(res, 'monthly_message_limit_exceeded');
		expect(res.body.details).toEqual({ action: 'block', risk_score: 90, limit: 2, used: 2 });
		expect(res.headers['retry-after']).toBe(String(14 * 3600));
		t.clock.set('2026-06-01T00:00:00Z');
		expect((await t.send(sendBody({ phone: phoneN(4), message: 'd' }))).status).toBe(200);
	});

	it('uses the plan table by default (Starter 100/day)', async () => {
		t = createTestGateway();
		const me = await t.http.get('/api/me').set('Authorization', `Bearer ${t.apiKey}`);
		expect(me.body.limits).toMatchObject({ daily: 100, monthly: 2000, custom: false });
		t.gateway.accounts.update(t.accountId, { plan: 'growth' });
		const growth = await t.http.get('/api/me').set('Authorization', `Bearer ${t.apiKey}`);
		expect(growth.body.limits).toMatchObject({ daily: 500, monthly: 10000 });
		t.gateway.accounts.update(t.accountId, { plan: 'scale', dailyLimit: 2000 });
		const custom = await t.http.get('/api/me').set('Authorization', `Bearer ${t.apiKey}`);
		expect(custom.body.limits).toMatchObject({ daily: 2000, monthly: 30000, custom: true });
	});

	it('refused and failed sends do not count against the quota', async () => {
		t = createTestGateway({ account: { dailyLimit: 1 }, sandbox: { failNumbers: [phoneN(5)] } });
		expectError(await t.send(sendBody({ message_purpose: 'marketing' })), 'message_purpose_not_allowed');
		expectError(await t.send(sendBody({ phone: phoneN(5) })), 'gateway_send_failed');
		expect((await t.send(sendBody())).status).toBe(200);
		expectError(await t.send(sendBody({ phone: phoneN(6), message: 'x' })), 'daily_message_limit_exceeded');
	});
});

describe('step 12: velocity', () => {
	it('429 sending_throttled per recipient (GCRA), with Retry-After, then allowed again later', async () => {
		t = createTestGateway(); // Starter: 6 per minute per recipient, burst of 1 extra
		expect((await t.send(sendBody({ message: 'Code 1' }))).status).toBe(200);
		expect((await t.send(sendBody({ message: 'Code 2' }))).status).toBe(200);
		const res = await t.send(sendBody({ message: 'Code 3' }));
		expectError(res, 'sending_throttled');
		// Two sends went through (the burst): `used` is what the limiter counts, not the limit restated.
		expect(res.body.details).toMatchObject({ action: 'throttle', scope: 'recipient', limit: 6, used: 2, burst: 2 });
		expect(Number(res.headers['retry-after'])).toBe(10);
		t.clock.advance(10_000);
		expect((await t.send(sendBody({ message: 'Code 4' }))).status).toBe(200);
	});

	it('throttles an instance across recipients at its own rate', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 4 } }); // burst 1: two at once, then one per 15 s
		expect((await t.send(sendBody({ phone: phoneN(1), message: 'a' }))).status).toBe(200);
		expect((await t.send(sendBody({ phone: phoneN(2), message: 'b' }))).status).toBe(200);
		const res = await t.send(sendBody({ phone: phoneN(3), message: 'c' }));
		expectError(res, 'sending_throttled');
		expect(res.body.details).toMatchObject({ scope: 'instance', limit: 4, used: 2, burst: 2 });
		expect(res.headers['retry-after']).toBe('15');
		// A quarter of a minute later one of the two has left the limiter's count: the next send goes, then 2 again.
		t.clock.advance(15_000);
		expect((await t.send(sendBody({ phone: phoneN(4), message: 'd' }))).status).toBe(200);
		const again = await t.send(sendBody({ phone: phoneN(5), message: 'e' }));
		expect(again.body.details).toMatchObject({ scope: 'instance', used: 2 });
	});
});

describe('step 13: content policy', () => {
	it('403 policy_violation for marketing language, with risk score and reasons', async () => {
		t = createTestGateway();
		const res = await t.send(sendBody({ message: 'Limited time promotion: buy now!' }));
		expectError(res, 'policy_violation');
		expect(res.body.details).toEqual({
			action: 'block',
			risk_score: 70,
			threshold: 70,
			reasons: ['marketing_language'],
		});
	});

	it('catches Arabic marketing language written with diacritics', async () => {
		t = createTestGateway();
		const res = await t.send(sendBody({ message: 'خَصْم خاص لفترة محدودة' }));
		expectError(res, 'policy_violation');
	});

	it('link shortener plus one marketing word blocks; a plain link does not', async () => {
		t = createTestGateway();
		expect((await t.send(sendBody({ message: 'Track your order at https://shop.example.com/o/2041' }))).status).toBe(
			200,
		);
		const res = await t.send(sendBody({ phone: phoneN(1), message: 'Big sale at https://bit.ly/x1' }));
		expectError(res, 'policy_violation');
		expect(res.body.details.reasons).toEqual(['marketing_language', 'link_shortener']);
	});

	it('the same text to a fifth recipient within 10 minutes is bulk', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000 } });
		const notice = { message: 'Our office is closed today.' };
		for (let i = 0; i < 4; i += 1) expect((await t.send(sendBody({ ...notice, phone: phoneN(i) }))).status).toBe(200);
		const res = await t.send(sendBody({ ...notice, phone: phoneN(4) }));
		expectError(res, 'policy_violation');
		expect(res.body.details.reasons).toEqual(['bulk_identical_content']);
		t.clock.advance(10 * 60_000 + 1);
		expect((await t.send(sendBody({ ...notice, phone: phoneN(5) }))).status).toBe(200);
	});

	it('the same text a third time to one recipient within an hour is refused', async () => {
		t = createTestGateway();
		expect((await t.send(sendBody())).status).toBe(200);
		t.clock.advance(60_000);
		expect((await t.send(sendBody())).status).toBe(200);
		t.clock.advance(60_000);
		const res = await t.send(sendBody());
		expectError(res, 'policy_violation');
		expect(res.body.details.reasons).toEqual(['repeated_identical_content']);
	});

	it('the bulk rule holds for simultaneous sends too', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000 } });
		const results = await Promise.all(
			Array.from({ length: 10 }, (_, i) =>
				t.send(sendBody({ message: 'Our office is closed today.', phone: phoneN(i) })),
			),
		);
		const statuses = results.map((res) => res.status);
		expect(statuses.filter((status) => status === 200)).toHaveLength(4);
		expect(
			results
				.filter((res) => res.status !== 200)
				.every((res) => ['policy_violation', 'instance_paused_for_review'].includes(res.body.error)),
		).toBe(true);
	});

	it('resuming a paused instance starts its violation count afresh', async () => {
		t = createTestGateway();
		for (let i = 0; i < 3; i += 1)
			await t.send(sendBody({ phone: phoneN(i), message: `Exclusive offer ${i}: 50% off, buy now` }));
		t.gateway.instances.resume(t.instanceId);
		expectError(await t.send(sendBody({ phone: phoneN(7), message: 'Huge sale, buy now' })), 'policy_violation');
		expect((await t.send(sendBody({ message: 'Your order has shipped.' }))).status).toBe(200);
	});

	it('three refusals within an hour pause the instance for review (then 423)', async () => {
		t = createTestGateway();
		for (let i = 0; i < 3; i += 1) {
			expectError(
				await t.send(sendBody({ phone: phoneN(i), message: `Exclusive offer ${i}: 50% off, buy now` })),
				'policy_violation',
			);
		}
		const res = await t.send(sendBody({ message: 'Your order has shipped.' }));
		expectError(res, 'instance_paused_for_review');
		expect(res.body.details.reason).toMatch(/3 policy violations within 60 minutes/);
	});
});

describe('step 14: provider failure', () => {
	it('502 gateway_send_failed, logged as failed with its history', async () => {
		t = createTestGateway({ sandbox: { failNumbers: [PHONE] } });
		const res = await t.send(sendBody());
		expectError(res, 'gateway_send_failed');
		const logId = res.body.details.log_id as number;
		const status = await t.http.get(`/api/messages/${logId}`).set('Authorization', `Bearer ${t.apiKey}`);
		expect(status.body.message).toMatchObject({ status: 'failed', error: 'gateway_send_failed', http_status: 502 });
		expect(status.body.message.history.map((h: { status: string }) => h.status)).toEqual(['failed']);
	});

	it('a failure rate injects failures from the injected random source', async () => {
		t = createTestGateway({ sandbox: { failureRate: 0.5, random: () => 0.4 } });
		expectError(await t.send(sendBody()), 'gateway_send_failed');
	});
});

describe('step 15: unexpected errors', () => {
	it('500 internal_error with no internals in the body', async () => {
		t = createTestGateway();
		t.gateway.sandbox.sendText = () => Promise.reject(new Error('boom'));
		jest.spyOn(t.gateway.accounts, 'authenticate').mockImplementationOnce(() => {
			throw new TypeError('secret internal detail');
		});
		const res = await t.send(sendBody());
		expectError(res, 'internal_error');
		expect(JSON.stringify(res.body)).not.toMatch(/secret internal detail/);
	});
});

describe('message log', () => {
	it('every authenticated attempt is logged with its outcome; unauthenticated ones are not', async () => {
		t = createTestGateway();
		await t.send(sendBody());
		await t.send(sendBody({ message_purpose: 'marketing' }));
		await t.send(sendBody({ instance_id: 'nope', message: 'x' }));
		await t.http.post('/api/send-message').set('Content-Type', 'application/json').send('{}');
		expect(logRows(t)).toEqual([
			expect.objectContaining({ status: 'sent', error_code: null, http_status: 200, message_purpose: 'transactional' }),
			expect.objectContaining({
				status: 'blocked',
				error_code: 'message_purpose_not_allowed',
				http_status: 422,
				message_purpose: 'marketing',
			}),
			expect.objectContaining({ status: 'blocked', error_code: 'invalid_instance', http_status: 404 }),
		]);
	});

	it('GET /api/messages/{log_id} shows only the caller’s own messages', async () => {
		t = createTestGateway();
		const sent = await t.send(sendBody());
		const other = t.gateway.accounts.create({ name: 'Other' });
		const { key } = t.gateway.accounts.createKey(other.id);
		const res = await t.http.get(`/api/messages/${sent.body.log_id}`).set('Authorization', `Bearer ${key}`);
		expectError(res, 'not_found');
		expectError(await t.http.get('/api/messages/abc').set('Authorization', `Bearer ${t.apiKey}`), 'not_found');
		expectError(await t.http.get(`/api/messages/${sent.body.log_id}`), 'invalid_api_key');
	});
});

describe('Idempotency-Key', () => {
	it('the same key and body returns the first answer and sends once', async () => {
		t = createTestGateway();
		const sends: unknown[] = [];
		t.sandbox.onSend((send) => sends.push(send));
		const first = await t.send(sendBody(), { 'Idempotency-Key': 'exec-42-item-0' });
		// Same JSON with another key order and spacing is the same body.
		const reordered = JSON.stringify(
			{
				message_purpose: 'transactional',
				message: 'Your order #2041 has been shipped.',
				phone: PHONE,
				instance_id: 'demo-support-line',
			},
			null,
			2,
		);
		const again = await t.send(reordered, { 'Idempotency-Key': 'exec-42-item-0' });
		expect(again.status).toBe(200);
		expect(again.body).toEqual(first.body);
		expect(again.headers['idempotent-replayed']).toBe('true');
		expect(sends).toHaveLength(1);
		expect(logRows(t)).toHaveLength(1);
	});

	it('the same key with another body is 422 idempotency_key_reused', async () => {
		t = createTestGateway();
		await t.send(sendBody(), { 'Idempotency-Key': 'k1' });
		const res = await t.send(sendBody({ message: 'Something else' }), { 'Idempotency-Key': 'k1' });
		expectError(res, 'idempotency_key_reused');
	});

	it('a refused attempt is not remembered: the retry after the fix goes through', async () => {
		t = createTestGateway();
		t.gateway.instances.pause(t.instanceId, 'review');
		expectError(await t.send(sendBody(), { 'Idempotency-Key': 'k2' }), 'instance_paused_for_review');
		t.gateway.instances.resume(t.instanceId);
		expect((await t.send(sendBody(), { 'Idempotency-Key': 'k2' })).status).toBe(200);
	});

	it('keys are per account and expire after 24 hours', async () => {
		t = createTestGateway({ account: { recipientRatePerMinute: 1000 } });
		const first = await t.send(sendBody(), { 'Idempotency-Key': 'k3' });
		t.clock.advance(24 * 3600_000 + 1);
		const later = await t.send(sendBody(), { 'Idempotency-Key': 'k3' });
		expect(later.status).toBe(200);
		expect(later.body.log_id).not.toBe(first.body.log_id);
	});

	it('a malformed key is a validation_error', async () => {
		t = createTestGateway();
		const res = await t.send(sendBody(), { 'Idempotency-Key': 'x'.repeat(256) });
		expectError(res, 'validation_error');
		expect(res.body.details.fields).toHaveProperty(['Idempotency-Key']);
	});

	it('concurrent requests with one key send once; the other waits its turn (409) or replays', async () => {
		t = createTestGateway();
		let release: () => void = () => undefined;
		let reached: () => void = () => undefined;
		const providerReached = new Promise<void>((resolve) => (reached = resolve));
		const original = t.sandbox.sendText.bind(t.sandbox);
		t.sandbox.sendText = async (...args) => {
			const held = new Promise<void>((resolve) => (release = resolve));
			reached();
			await held;
			return original(...args);
		};
		const first = t.send(sendBody(), { 'Idempotency-Key': 'k4' }).then((res) => res);
		await providerReached; // the first request is with the provider, holding the key
		const second = await t.send(sendBody(), { 'Idempotency-Key': 'k4' });
		expectError(second, 'idempotency_request_in_progress');
		expect(second.headers['retry-after']).toBe('1');
		release();
		expect((await first).status).toBe(200);
		const third = await t.send(sendBody(), { 'Idempotency-Key': 'k4' });
		expect(third.body).toEqual((await first).body);
	});

	it('ten simultaneous requests with one key (claimed in the same group commit) send once', async () => {
		t = createTestGateway();
		const sends: unknown[] = [];
		t.sandbox.onSend((send) => sends.push(send));
		const answers = await Promise.all(
			Array.from({ length: 10 }, () => t.send(sendBody(), { 'Idempotency-Key': 'k-burst' })),
		);
		expect(sends).toHaveLength(1);
		const sent = answers.filter((res) => res.status === 200 && res.headers['idempotent-replayed'] === undefined);
		expect(sent).toHaveLength(1);
		for (const res of answers.filter((answer) => !sent.includes(answer))) {
			if (res.status === 200) expect(res.body).toEqual(sent[0].body);
			else expectError(res, 'idempotency_request_in_progress');
		}
		expect(logRows(t)).toHaveLength(1);
	});

	it('after a crash mid-send the key answers 502 and never sends again', async () => {
		t = createTestGateway();
		const sends: unknown[] = [];
		let finishLate: (value: { messageId: string }) => void = () => undefined;
		let reached: () => void = () => undefined;
		const providerReached = new Promise<void>((resolve) => (reached = resolve));
		// The provider call does not return before the "restart": the process dies here.
		t.sandbox.sendText = () =>
			new Promise((resolve) => {
				finishLate = resolve;
				reached();
			});
		const interrupted = t.send(sendBody(), { 'Idempotency-Key': 'k5' }).then(
			() => undefined,
			() => undefined,
		);
		await providerReached; // the log entry is committed before the provider is called
		expect(logRows(t)).toEqual([expect.objectContaining({ status: 'sending' })]);
		// A restart runs recovery before serving.
		expect(t.gateway.messaging.recoverInterruptedSends()).toBe(1);
		t.sandbox.onSend((send) => sends.push(send));
		t.sandbox.sendText = (instance, to, text) => Promise.resolve({ messageId: `${instance.id}${to}${text}` });
		const retry = await t.send(sendBody(), { 'Idempotency-Key': 'k5' });
		expectError(retry, 'gateway_send_failed');
		expect(retry.body.details).toMatchObject({ interrupted: true });
		expect(logRows(t)).toEqual([expect.objectContaining({ status: 'unknown' })]);
		expect(sends).toHaveLength(0);
		finishLate({ messageId: 'late' });
		await interrupted;
	});
});

describe('Idempotency-Key after the provider was called', () => {
	it('a provider timeout (unknown outcome) is remembered as 502: the retry does not send again', async () => {
		t = createTestGateway({ account: { dailyLimit: 5 } });
		let calls = 0;
		t.sandbox.sendText = async () => {
			calls += 1;
			throw new ProviderError('no answer from the provider within 30 s', 'unknown');
		};
		const first = await t.send(sendBody(), { 'Idempotency-Key': 'k-timeout' });
		expectError(first, 'gateway_send_failed');
		expect(first.body.details).toMatchObject({ outcome: 'unknown' });
		const retry = await t.send(sendBody(), { 'Idempotency-Key': 'k-timeout' });
		expect(retry.body).toEqual(first.body);
		expect(retry.headers['idempotent-replayed']).toBe('true');
		expect(calls).toBe(1);
		expect(logRows(t)).toEqual([expect.objectContaining({ status: 'unknown', error_code: 'gateway_send_failed' })]);
		const me = await t.http.get('/api/me').set('Authorization', `Bearer ${t.apiKey}`);
		expect(me.body.usage.today).toBe(1); // it may have gone out: the unit stays counted
	});

	it('a definite provider refusal frees the key: the retry sends', async () => {
		t = createTestGateway();
		let calls = 0;
		const original = t.sandbox.sendText.bind(t.sandbox);
		t.sandbox.sendText = async (...args) => {
			calls += 1;
			if (calls === 1) throw new ProviderError('recipient not on WhatsApp', 'rejected');
			return original(...args);
		};
		expectError(await t.send(sendBody(), { 'Idempotency-Key': 'k-rejected' }), 'gateway_send_failed');
		expect((await t.send(sendBody(), { 'Idempotency-Key': 'k-rejected' })).status).toBe(200);
		expect(calls).toBe(2);
	});

	it('an error after the provider sent keeps the key claimed, and the restart settles it without a second send', async () => {
		t = createTestGateway();
		const sends: unknown[] = [];
		t.sandbox.onSend((send) => sends.push(send));
		const record = jest.spyOn(t.gateway.outbox, 'record').mockImplementation(() => {
			throw new Error('disk full');
		});
		expectError(await t.send(sendBody(), { 'Idempotency-Key': 'k-disk' }), 'internal_error');
		record.mockRestore();
		expectError(await t.send(sendBody(), { 'Idempotency-Key': 'k-disk' }), 'idempotency_request_in_progress');
		t.gateway.messaging.recoverInterruptedSends();
		const retry = await t.send(sendBody(), { 'Idempotency-Key': 'k-disk' });
		expectError(retry, 'gateway_send_failed');
		expect(retry.body.details).toMatchObject({ interrupted: true });
		expect(sends).toHaveLength(1);
	});
});

describe('other routes', () => {
	it('GET / is the health document', async () => {
		t = createTestGateway();
		const res = await t.http.get('/');
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ success: true, status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
	});

	it('GET /api/instances lists only the caller’s instances', async () => {
		t = createTestGateway();
		const other = t.gateway.accounts.create({ name: 'Other' });
		t.gateway.instances.create({
			accountId: other.id,
			name: 'theirs',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const res = await t.http.get('/api/instances').set('Authorization', `Bearer ${t.apiKey}`);
		expect(res.body).toEqual({
			success: true,
			instances: [
				{
					id: t.instanceId,
					name: 'demo-support-line',
					display_name: 'Demo Support Line',
					provider: 'sandbox',
					connection_state: 'connected',
					paused: false,
					paused_reason: null,
				},
			],
		});
	});

	it('GET /api/me reports usage today and this month', async () => {
		t = createTestGateway();
		await t.send(sendBody());
		const res = await t.http.get('/api/me').set('Authorization', `Bearer ${t.apiKey}`);
		expect(res.body).toMatchObject({
			success: true,
			account: { id: t.accountId, time_zone: 'UTC' },
			plan: { name: 'starter', label: 'Starter', active: true },
			usage: { day: '2026-05-08', today: 1, month: '2026-05', this_month: 1 },
		});
		expect(JSON.stringify(res.body)).not.toContain(t.apiKey);
	});

	it('unknown routes and methods answer in the error shape', async () => {
		t = createTestGateway();
		expectError(await t.http.get('/nowhere'), 'not_found');
		expectError(await t.http.put('/api/send-message'), 'method_not_allowed');
	});

	it('405 names the allowed methods, whichever area’s router serves the path', async () => {
		t = createTestGateway();
		const cases: [string, string[]][] = [
			['/api/send-message', ['POST']],
			['/api/webhooks', ['GET', 'HEAD', 'POST']],
			['/api/webhooks/wh_x', ['DELETE', 'GET', 'HEAD']],
			['/api/instances', ['GET', 'HEAD']],
			['/sandbox/inbound', ['POST']],
		];
		for (const [path, allowed] of cases) {
			const res = await t.http.patch(path);
			expectError(res, 'method_not_allowed');
			expect(String(res.headers.allow).split(/,\s*/).sort()).toEqual(allowed);
		}
	});
});
