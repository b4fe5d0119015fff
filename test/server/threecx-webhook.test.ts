import postman from '../fixtures/seed-000-postman-collection.json';
import fixtures from '../fixtures/reference-threecx-section5.json';
import { COOLDOWN_MS } from '../../server/src/threecx/service';
import { createThreecxGateway, CUSTOMER, signedHeaders, type ThreecxTestGateway } from '../helpers/threecx';

let t: ThreecxTestGateway;
afterEach(() => t?.close());

const MINUTE = 60_000;
const [
	testEvent,
	outbound,
	_inboundReply,
	callStarted,
	missedCall,
	callEnded,
	voicemail,
	_queueEvent,
	queueCallback,
	afterHours,
] = fixtures.happy_path;

describe('the 3CX fixtures: the happy path, every fixture over HTTP', () => {
	it('acknowledges the four events that send nothing and sends the agent reply and the five templates', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const answers: Record<string, unknown>[] = [];
		for (const event of fixtures.happy_path) {
			// A minute apart, as a day of calls would be: the per-recipient velocity limit is not what is tested here.
			t.clock.advance(MINUTE);
			const res = await t.post(event);
			expect({ event: event.event_type, status: res.status }).toEqual({ event: event.event_type, status: 200 });
			answers.push(res.body);
		}
		expect(answers.map((body) => [body.event_type, body.status, body.action])).toEqual([
			['test', 'processed', 'received'],
			['outbound_message', 'processed', 'sent'],
			['inbound_reply', 'processed', 'logged'],
			['call_started', 'processed', 'logged'],
			['missed_call', 'processed', 'sent'],
			['call_ended', 'processed', 'sent'],
			['voicemail', 'processed', 'sent'],
			['queue_event', 'processed', 'logged'],
			['queue_callback', 'processed', 'sent'],
			['after_hours', 'processed', 'sent'],
		]);
		for (const body of answers.filter((answer) => answer.action === 'sent')) {
			expect(body).toMatchObject({
				success: true,
				message_id: expect.any(String),
				log_id: expect.any(Number),
				customer_phone: CUSTOMER,
			});
		}
		const sent = t.threecxLog();
		expect(sent.map((row) => [row.status, row.phone])).toEqual(Array(6).fill(['sent', CUSTOMER]));
		expect(sent[0].message_text).toBe(outbound.message_text);
		// The template variables render: {{business_name}}, {{queue}}.
		expect(sent[1].message_text).toBe(
			'Hello, this is Acme Support. Sorry we missed your call. Reply here and we will get back to you.',
		);
		expect(sent[4].message_text).toBe(
			'Hello, this is Acme Support. We received your callback request for queue 800 and will call you back.',
		);
	});

	it('renders every variable, {{call_time}} in the account time zone', async () => {
		t = await createThreecxGateway({
			account: { timeZone: 'Asia/Riyadh' },
			integration: {
				templates: {
					missed_call: {
						text: '{{business_name}}: {{customer_phone}} called {{queue}} (agent {{agent_extension}}) at {{call_time}}.',
					},
				},
			},
		});
		await t.customerWrites();
		expect((await t.post(missedCall)).body.action).toBe('sent');
		expect(t.threecxLog()[0].message_text).toBe(
			'Acme Support: +966500000000 called 800 (agent 101) at 2026-09-15 13:00.',
		);
	});
});

describe('the 3CX fixtures: policy cases', () => {
	it('a second missed_call within 15 minutes is skipped (with another external_message_id too); 15 min + 1 s later it sends', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const first = await t.post(missedCall);
		expect(first.body).toMatchObject({ status: 'processed', action: 'sent' });
		t.clock.advance(5 * MINUTE);
		const again = await t.post({ ...missedCall, external_message_id: '3cx-call-other' });
		expect(again.status).toBe(200);
		expect(again.body).toMatchObject({
			success: true,
			status: 'skipped',
			event_type: 'missed_call',
			action: 'none',
			reason: 'cooldown',
			cooldown_until: '2026-09-15T10:45:00.000Z',
		});
		t.clock.set('2026-09-15T10:45:00Z');
		t.clock.advance(-1);
		expect((await t.post({ ...missedCall, external_message_id: '3cx-call-b' })).body.reason).toBe('cooldown');
		t.clock.advance(1001);
		const later = await t.post({ ...missedCall, external_message_id: '3cx-call-c' });
		expect(later.body).toMatchObject({ status: 'processed', action: 'sent' });
		expect(t.threecxLog()).toHaveLength(2);
		expect(COOLDOWN_MS).toBe(15 * MINUTE);
	});

	it('the cooldown key includes the event type: the same pair as voicemail is not suppressed by the missed call', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		expect((await t.post(missedCall)).body.action).toBe('sent');
		t.clock.advance(MINUTE);
		expect((await t.post({ ...missedCall, event_type: 'voicemail', external_message_id: 'vm-1' })).body.action).toBe(
			'sent',
		);
		t.clock.advance(MINUTE);
		expect((await t.post({ ...missedCall, event_type: 'voicemail', external_message_id: 'vm-2' })).body.reason).toBe(
			'cooldown',
		);
	});

	it('concurrent duplicates of one missed call send one message', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const answers = await Promise.all(
			[1, 2, 3].map((n) => t.post({ ...missedCall, external_message_id: `concurrent-${n}` })),
		);
		expect(new Set(answers.map((res) => `${res.status} ${res.body.status}`))).toEqual(
			new Set(['200 processed', '200 skipped']),
		);
		expect(answers.filter((res) => res.body.status === 'processed')).toHaveLength(1);
		expect(t.threecxLog()).toHaveLength(1);
	});

	it('no inbound message, or one older than the window: every call event and outbound_message is refused and nothing is sent', async () => {
		t = await createThreecxGateway();
		for (const event of [outbound, missedCall, voicemail, callEnded, queueCallback, afterHours]) {
			t.clock.advance(MINUTE);
			const res = await t.post(event);
			expect({ event: event.event_type, status: res.status, error: res.body.error }).toEqual({
				event: event.event_type,
				status: 403,
				error: 'conversation_window_closed',
			});
		}
		expect(t.providerSends).toEqual([]);
		await t.customerWrites();
		t.clock.advance(24 * 60 * MINUTE + 1);
		const stale = await t.post({ ...outbound, external_message_id: 'late' });
		expect(stale.status).toBe(403);
		expect(stale.body).toMatchObject({
			success: false,
			error: 'conversation_window_closed',
			message:
				'The recipient has not messaged first or the last inbound WhatsApp message is outside the active conversation window.',
			details: { phone: CUSTOMER, window_hours: 24 },
		});
		expect(
			t.threecxLog().every((row) => row.status === 'blocked' && row.error_code === 'conversation_window_closed'),
		).toBe(true);
	});

	it('with strict mode off the window is not required', async () => {
		t = await createThreecxGateway({ integration: { strictWindow: false } });
		expect((await t.post(outbound)).body.action).toBe('sent');
	});

	it.each(['marketing', 'promotion', 'unknown', 'cold_outreach'])(
		'message_purpose %s is message_purpose_not_allowed',
		async (purpose) => {
			t = await createThreecxGateway();
			await t.customerWrites();
			const res = await t.post({ ...outbound, message_purpose: purpose });
			expect(res.status).toBe(422);
			expect(res.body).toMatchObject({ error: 'message_purpose_not_allowed', details: { message_purpose: purpose } });
		},
	);

	it('missing phone, missing text, missing purpose and an unknown event type are refused with their codes', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const { to: _to, ...noTo } = outbound;
		const { customer_phone: _phone, ...noPhone } = missedCall;
		const { message_text: _text, ...noText } = outbound;
		const { message_purpose: _purpose, ...noPurpose } = outbound;
		const cases: [unknown, number, string][] = [
			[noTo, 400, 'missing_phone'],
			[noPhone, 400, 'missing_phone'],
			[{ ...missedCall, customer_phone: 'call me' }, 400, 'missing_phone'],
			[noText, 400, 'missing_message_text'],
			[{ ...outbound, message_text: '   ' }, 400, 'missing_message_text'],
			[noPurpose, 422, 'message_purpose_not_allowed'],
			[{ event_type: 'call_transferred', customer_phone: CUSTOMER }, 400, 'invalid_3cx_event'],
			[{ customer_phone: CUSTOMER }, 400, 'invalid_3cx_event'],
			[{ ...missedCall, agent_extension: { id: 101 } }, 400, 'invalid_3cx_event'],
			[[missedCall], 400, 'invalid_3cx_event'],
		];
		for (const [body, status, error] of cases) {
			const res = await t.post(body);
			expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status, error });
		}
		expect(t.threecxLog().filter((row) => row.status === 'sent')).toHaveLength(0);
		// The answers name every field the phone is read from, and what is wrong with a field.
		expect((await t.post(noTo)).body.details).toEqual({ fields: ['to', 'customer_phone', 'phone', 'caller', 'from'] });
		expect((await t.post(noPhone)).body.details).toEqual({
			fields: ['customer_phone', 'caller', 'phone', 'from', 'to'],
		});
		expect((await t.post({ ...missedCall, agent_extension: { id: 101 } })).body.details).toEqual({
			fields: { agent_extension: 'must be text or a number' },
		});
	});

	it('a suppressed or opted-out recipient is recipient_suppressed', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		await t.customerWrites(CUSTOMER, 'STOP');
		for (const event of [outbound, missedCall]) {
			const res = await t.post(event);
			expect([res.status, res.body.error]).toEqual([403, 'recipient_suppressed']);
		}
	});

	it('a replayed external_message_id does not send twice: the first answer comes back', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const first = await t.post(outbound);
		t.clock.advance(MINUTE);
		const replay = await t.post({ ...outbound, message_text: 'A different text, same event id' });
		expect(replay.status).toBe(200);
		expect(replay.headers['idempotent-replayed']).toBe('true');
		expect(replay.body).toMatchObject({ message_id: first.body.message_id, log_id: first.body.log_id, replayed: true });
		expect(t.threecxLog()).toHaveLength(1);
	});

	it('switches: call events off, outbound off, a template off, the 3CX module off', async () => {
		t = await createThreecxGateway({ integration: { callEventsEnabled: false, outboundEnabled: false } });
		await t.customerWrites();
		expect((await t.post(missedCall)).body).toMatchObject({
			error: 'call_events_disabled',
			message: 'Call events are disabled in the integration settings.',
		});
		expect((await t.post(outbound)).body).toMatchObject({
			error: 'outbound_disabled',
			message: 'Outbound messaging is disabled in the integration settings.',
		});
		expect((await t.post(testEvent)).body.action).toBe('received');
		await t.gateway.threecx.integrations.update(t.integrationId, {
			callEventsEnabled: true,
			templates: { missed_call: { enabled: false } },
		});
		expect((await t.post(missedCall)).body).toMatchObject({ status: 'skipped', reason: 'template_disabled' });
		t.gateway.accounts.update(t.accountId, { threecx: false });
		for (const event of [testEvent, missedCall, { event_type: 'nonsense' }]) {
			const res = await t.post(event);
			expect([res.status, res.body.error, res.body.message, res.body.details]).toEqual([
				403,
				'module_not_enabled',
				'The 3CX middleware is not enabled for this account.',
				{ module: 'threecx' },
			]);
		}
	});

	it('every attempt past authentication is in the message log with source 3cx, refusals too', async () => {
		t = await createThreecxGateway();
		await t.post(missedCall);
		await t.customerWrites();
		await t.post(missedCall);
		expect(t.threecxLog().map((row) => [row.status, row.error_code])).toEqual([
			['blocked', 'conversation_window_closed'],
			['sent', null],
		]);
		expect(t.providerSends).toEqual([{ to: CUSTOMER, text: expect.stringContaining('Sorry we missed your call') }]);
	});
});

describe('the 3CX fixtures: 3CX realism', () => {
	it('every phone format 3CX produces normalizes to the same E.164 number', async () => {
		t = await createThreecxGateway();
		for (const phone of fixtures.phone_formats) {
			const res = await t.post({ ...callStarted, customer_phone: phone });
			expect({ phone, customer_phone: res.body.customer_phone }).toEqual({ phone, customer_phone: CUSTOMER });
		}
	});

	it('unfilled [Variables] and empty strings count as absent', async () => {
		t = await createThreecxGateway({
			integration: {
				templates: {
					missed_call: { text: 'Missed call at {{business_name}}. Agent:{{agent_extension}} Queue:{{queue}}' },
				},
			},
		});
		await t.customerWrites();
		expect((await t.post({ ...missedCall, agent_extension: '[Agent]', queue: '[QueueExtension]' })).body.action).toBe(
			'sent',
		);
		t.clock.advance(COOLDOWN_MS);
		expect(
			(await t.post({ ...missedCall, external_message_id: 'b', agent_extension: '', queue: '' })).body.action,
		).toBe('sent');
		expect(t.threecxLog().map((row) => row.message_text)).toEqual(
			Array(2).fill('Missed call at Acme Support. Agent: Queue:'),
		);
		const missing = await t.post({ ...outbound, to: '[Number]', external_message_id: 'c' });
		expect(missing.body.error).toBe('missing_phone');
	});

	it('local-culture times are read day first in the account time zone; durations 00:02:05 and 125 both parse', async () => {
		t = await createThreecxGateway({
			integration: { templates: { missed_call: { text: 'We missed your call at {{call_time}}.' } } },
		});
		await t.customerWrites();
		await t.post({ ...missedCall, call_time: '15/09/2026 13:00:00' });
		expect(t.threecxLog()[0].message_text).toBe('We missed your call at 2026-09-15 13:00.');
		await t.post({ ...callEnded, duration: '00:02:05', external_message_id: 'd1' });
		t.clock.advance(COOLDOWN_MS);
		await t.post({ ...callEnded, duration: '125', external_message_id: 'd2' });
		const durations = t.gateway.db
			.prepare("SELECT duration_seconds FROM threecx_events WHERE event_type = 'call_ended' ORDER BY id")
			.pluck()
			.all();
		expect(durations).toEqual([125, 125]);
	});

	it('a raw ReportCall body: Missed is missed_call, Notanswered is call_ended and never missed_call', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const missed = await t.post(fixtures.report_call_missed);
		expect(missed.body).toMatchObject({
			event_type: 'missed_call',
			action: 'sent',
			external_message_id: expect.stringMatching(/^3cx-call-/),
		});
		const notAnswered = await t.post(fixtures.report_call_not_answered);
		expect(notAnswered.body).toMatchObject({ event_type: 'call_ended', outcome: 'not_answered' });
		// The template's own JSON with [CallType] passed along: Notanswered wins over what the IIf chose.
		const viaTemplate = await t.post({
			event_type: 'missed_call',
			call_type: 'Notanswered',
			customer_phone: CUSTOMER,
			call_time: '2026-09-15T11:00:00Z',
		});
		expect(viaTemplate.body).toMatchObject({ event_type: 'call_ended', outcome: 'not_answered' });
		// The same ReportCall posted twice is one call (a hashed id): the replay does not send again, and it is
		// the first answer again, inside the cooldown the first send started and after it.
		const retried = await t.post(fixtures.report_call_missed);
		expect(retried.headers['idempotent-replayed']).toBe('true');
		expect(retried.body).toMatchObject({ action: 'sent', replayed: true, message_id: missed.body.message_id });
		t.clock.advance(COOLDOWN_MS + 1);
		const again = await t.post(fixtures.report_call_missed);
		expect(again.body).toMatchObject({ replayed: true, message_id: missed.body.message_id });
	});
});

describe('the 3CX fixtures: security', () => {
	const hmacSecret = 'hmac-secret-for-the-tests-0123';

	/** The parts of a 401 a client can observe, minus the date. */
	const observable = (res: { status: number; headers: Record<string, string>; text: string }) => {
		const { date: _date, ...headers } = res.headers;
		return { status: res.status, headers, body: res.text };
	};

	it('every pre-authentication failure gives the identical generic 401', async () => {
		t = await createThreecxGateway({ integration: { hmacSecret, ipAllowlist: ['127.0.0.0/8', '::1/128'] } });
		const raw = JSON.stringify(testEvent);
		const now = Math.floor(t.clock.now() / 1000);
		const good = signedHeaders(hmacSecret, raw, now);
		expect((await t.post(raw, good)).status).toBe(200);

		const disabled = await t.gateway.threecx.integrations.create(t.accountId, {
			instance: 'demo-support-line',
			enabled: false,
		});
		const elsewhere = await t.gateway.threecx.integrations.create(t.accountId, {
			instance: 'demo-support-line',
			ipAllowlist: ['10.0.0.0/8'],
		});
		const failures = {
			'wrong secret': await t.post(raw, { ...good, 'X-WhatsApp-Gateway-3CX-Secret': `${t.secret}x` }),
			'missing secret': await t.http
				.post(`/integrations/3cx/webhook/${t.integrationId}`)
				.set({ 'Content-Type': 'application/json', ...good })
				.send(raw),
			'unknown integration': await t.post(raw, good, 999),
			'not an integration id': await t.http
				.post('/integrations/3cx/webhook/abc')
				.set({ 'X-WhatsApp-Gateway-3CX-Secret': t.secret, ...good })
				.send(raw),
			'disabled integration': await t.post(
				raw,
				{ ...good, 'X-WhatsApp-Gateway-3CX-Secret': disabled.secret },
				disabled.integration.id,
			),
			'IP outside the allowlist': await t.post(
				raw,
				{ ...good, 'X-WhatsApp-Gateway-3CX-Secret': elsewhere.secret },
				elsewhere.integration.id,
			),
			'stale timestamp': await t.post(raw, signedHeaders(hmacSecret, raw, now - 301)),
			'future timestamp': await t.post(raw, signedHeaders(hmacSecret, raw, now + 301)),
			'body changed by one byte': await t.post(raw.replace('test', 'tesT'), good),
			'missing signature': await t.post(raw, { 'X-WhatsApp-Gateway-Timestamp': String(now) }),
			'signed with another secret': await t.post(raw, signedHeaders(`${hmacSecret}x`, raw, now)),
		};
		const expected = observable(failures['wrong secret']);
		expect(expected.status).toBe(401);
		expect(JSON.parse(expected.body)).toEqual({
			success: false,
			error: 'invalid_3cx_webhook',
			message: 'Invalid 3CX webhook request.',
			details: {},
		});
		for (const [name, res] of Object.entries(failures))
			expect({ name, ...observable(res) }).toEqual({ name, ...expected });
	});

	it('a valid sha256=<hex> signature and a valid bare <hex> signature both pass; ±300 s is the edge', async () => {
		t = await createThreecxGateway({ integration: { hmacSecret } });
		const raw = JSON.stringify(testEvent);
		const now = Math.floor(t.clock.now() / 1000);
		const prefixed = signedHeaders(hmacSecret, raw, now);
		const bare = {
			...prefixed,
			'X-WhatsApp-Gateway-Signature': prefixed['X-WhatsApp-Gateway-Signature'].slice('sha256='.length),
		};
		expect((await t.post(raw, prefixed)).status).toBe(200);
		expect((await t.post(raw, bare)).status).toBe(200);
		expect((await t.post(raw, signedHeaders(hmacSecret, raw, now - 300))).status).toBe(200);
		expect((await t.post(raw, signedHeaders(hmacSecret, raw, now + 300))).status).toBe(200);
	});

	it('invalid JSON after authentication is invalid_json', async () => {
		t = await createThreecxGateway();
		const res = await t.post('{"event_type": "test"');
		expect([res.status, res.body.error]).toEqual([400, 'invalid_json']);
	});

	it('the 61st request within a minute is webhook_rate_limited with Retry-After; the window slides', async () => {
		t = await createThreecxGateway();
		for (let i = 0; i < 60; i += 1) {
			const res = await t.post(testEvent);
			expect(res.status).toBe(200);
			if (i === 29) t.clock.advance(30_000);
		}
		const limited = await t.post(testEvent);
		expect(limited.status).toBe(429);
		expect(limited.headers['retry-after']).toBe('30');
		expect(limited.body).toMatchObject({ error: 'webhook_rate_limited', details: { limit: 60, window_seconds: 60 } });
		// Another integration has its own minute.
		const other = await t.gateway.threecx.integrations.create(t.accountId, { instance: 'demo-support-line' });
		expect(
			(await t.post(testEvent, { 'X-WhatsApp-Gateway-3CX-Secret': other.secret }, other.integration.id)).status,
		).toBe(200);
		t.clock.advance(30_000);
		expect((await t.post(testEvent)).status).toBe(200);
	});
});

describe('seed 000 (Postman): the 3CX Middleware folder', () => {
	interface PostmanRequest {
		name: string;
		request: { header: { key: string; value: string }[]; body: { raw: string }; url: { raw: string } };
	}
	const items = (postman.item as { name: string; item?: unknown[] }[]).find((item) => item.name === '3CX Middleware')
		?.item as PostmanRequest[];

	it('each request, with the collection variables filled in, is answered as its description says', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const vars: Record<string, string> = {
			base_url: '',
			threecx_secret: t.secret,
			threecx_integration_id: String(t.integrationId),
			phone: CUSTOMER,
		};
		const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_all, name: string) => vars[name] ?? `{{${name}}}`);
		const answers: Record<string, unknown>[] = [];
		for (const item of items) {
			let call = t.http.post(fill(item.request.url.raw));
			for (const header of item.request.header) call = call.set(header.key, fill(header.value));
			const res = await call.send(fill(item.request.body.raw));
			expect({ name: item.name, status: res.status }).toEqual({ name: item.name, status: 200 });
			answers.push(res.body);
			t.clock.advance(MINUTE);
		}
		expect(answers.map((body) => [body.event_type, body.action])).toEqual([
			['test', 'received'],
			['outbound_message', 'sent'],
			['missed_call', 'sent'],
		]);
	});
});

describe('concurrent posts of one call event', () => {
	it('one send; the others get the first answer or a 409 to retry, never skipped for the cooldown the first started', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const event = { ...missedCall, external_message_id: 'call-4711' };
		const answers = await Promise.all([1, 2, 3].map(() => t.post(event)));
		const sent = answers.find((res) => res.status === 200 && res.headers['idempotent-replayed'] === undefined)!;
		const outcomes = new Set(
			answers.map((res) =>
				res.status === 409 ? `409 ${res.body.error}` : `${res.status} ${res.body.action} ${res.body.message_id}`,
			),
		);
		expect(
			[...outcomes].every(
				(outcome) =>
					outcome === `200 sent ${sent.body.message_id}` || outcome === '409 idempotency_request_in_progress',
			),
		).toBe(true);
		expect(t.providerSends).toHaveLength(1);
	});
});

describe('concurrent posts of one agent reply', () => {
	it('one send; the others get the first answer or a 409 to retry', async () => {
		t = await createThreecxGateway();
		await t.customerWrites();
		const answers = await Promise.all([1, 2, 3].map(() => t.post(outbound)));
		const outcomes = new Set(
			answers.map((res) =>
				res.status === 409
					? `409 ${res.body.error} ${res.headers['retry-after']}`
					: `${res.status} ${res.body.message_id}`,
			),
		);
		const sent = answers.find((res) => res.status === 200 && res.headers['idempotent-replayed'] === undefined)!;
		expect(
			[...outcomes].every(
				(outcome) => outcome === `200 ${sent.body.message_id}` || outcome === '409 idempotency_request_in_progress 1',
			),
		).toBe(true);
		expect(t.providerSends).toHaveLength(1);
	});
});
