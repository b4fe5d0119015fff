import fc from 'fast-check';
import { ERROR_TABLE, type ErrorCode } from '../../server/src/http/errors';
import { createTestGateway, PHONE, type TestGateway } from '../helpers/gateway';

/** Statuses `/api/send-message` documents for a request the sandbox accepts or any guard refuses. */
const DOCUMENTED = new Set([200, 400, 401, 403, 404, 409, 413, 415, 422, 423, 429]);

let t: TestGateway;
beforeAll(() => {
	t = createTestGateway({
		account: {
			instanceRatePerMinute: 1_000_000,
			recipientRatePerMinute: 1_000_000,
			dailyLimit: 1_000_000,
			monthlyLimit: 1_000_000,
			defaultCountry: 'SA',
		},
	});
});
afterAll(() => t.close());

const anyText = fc.oneof(
	fc.string(),
	fc.string({ unit: 'binary' }),
	fc.constantFrom('', ' ', '\u0000', '💬', 'STOP', 'خصم'),
);
const fieldValue = fc.oneof(
	anyText,
	fc.integer(),
	fc.double(),
	fc.boolean(),
	fc.constant(null),
	fc.array(fc.string(), { maxLength: 3 }),
	fc.object({ maxDepth: 2 }),
);

/** Bodies that look like a send request in some fields and like noise in others, so every step is reached. */
const sendLike = fc.record(
	{
		instance_id: fc.oneof(fc.constantFrom('demo-support-line', 'wrong-instance', ''), fieldValue),
		phone: fc.oneof(fc.constantFrom(PHONE, '0501234567', '+9665XXXXXXX', '00966501234567', '+1'), fieldValue),
		message: fc.oneof(
			fc.constantFrom('Your order has shipped.', 'Limited time promotion, buy now', 'https://bit.ly/x'),
			fieldValue,
		),
		message_purpose: fc.oneof(
			fc.constantFrom('transactional', 'support', 'marketing', 'Transactional', ''),
			fieldValue,
		),
		media_type: fc.oneof(fc.constantFrom('image', 'document', 'audio', 'video', 'sticker'), fieldValue),
		mime_type: fc.oneof(fc.constantFrom('image/png', 'application/pdf', 'not a mime'), fieldValue),
		file_name: fieldValue,
		media: fc.oneof(
			fc.constantFrom('aGVsbG8=', 'data:image/png;base64,aGVsbG8=', 'https://example.com/a.png', 'http://x', '!!'),
			fieldValue,
		),
		__proto__: fieldValue,
		constructor: fieldValue,
		extra: fieldValue,
	},
	{ requiredKeys: [] },
);

const body = fc.oneof(
	sendLike.map((value) => JSON.stringify(value)),
	fc.jsonValue().map((value) => JSON.stringify(value)),
	anyText,
	fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
	fc.constantFrom(
		'',
		'{',
		'[]',
		'null',
		'{"a":',
		'{"message_purpose":"support"}',
		'['.repeat(5000),
		'{"a":'.repeat(3000),
		`{"message_purpose":${'['.repeat(20000)}${']'.repeat(20000)}}`,
		`{"message":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
	),
);

const contentType = fc.oneof(
	fc.constantFrom(
		'application/json',
		'application/json; charset=utf-8',
		'application/json; charset=latin1',
		'application/json; charset=bogus',
		'text/plain',
		'application/x-www-form-urlencoded',
		'multipart/form-data',
		'application/vnd.api+json',
		'',
	),
	fc.string({ maxLength: 40 }),
);

const authorization = fc.oneof(
	fc.constant('VALID'),
	fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer wg_live_bad', 'bearer VALID'),
	fc.string({ maxLength: 80 }),
);

const idempotencyKey = fc.option(
	fc.oneof(fc.constantFrom('exec-1', 'x'.repeat(300), ' '), fc.string({ maxLength: 40 })),
	{ nil: undefined },
);

/** Header values must be sendable over HTTP at all; drop what no client could put on the wire. */
const headerSafe = (value: string) => value.replace(/[^\t\x20-\x7e]/g, '').trim();

describe('malformed input never yields a 5xx', () => {
	it('random bodies, content types, keys and idempotency keys always get a documented 4xx (or a 200)', async () => {
		await fc.assert(
			fc.asyncProperty(body, contentType, authorization, idempotencyKey, async (raw, type, auth, key) => {
				const headers: Record<string, string> = {};
				const safeType = headerSafe(type);
				if (safeType) headers['Content-Type'] = safeType;
				const safeAuth = headerSafe(auth.replace('VALID', t.apiKey));
				if (safeAuth) headers.Authorization = safeAuth;
				if (key !== undefined && headerSafe(key)) headers['Idempotency-Key'] = headerSafe(key);
				const res = await t.http.post('/api/send-message').set(headers).send(raw);
				expect(DOCUMENTED.has(res.status)).toBe(true);
				if (res.status !== 200) {
					const code = res.body.error as ErrorCode;
					expect(ERROR_TABLE[code]).toBeDefined();
					expect(res.body).toEqual({
						success: false,
						error: code,
						message: ERROR_TABLE[code].message,
						details: expect.any(Object),
					});
					expect(res.status).toBe(ERROR_TABLE[code].status);
				}
			}),
			{ numRuns: 400 },
		);
	});

	it('odd methods and paths answer in the error shape, never 5xx', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom('get', 'put', 'delete', 'patch', 'options', 'head'),
				fc.constantFrom(
					'/api/send-message',
					'/api/messages/x',
					'/api/messages/99999999999999999999',
					'/api/me',
					'/%ZZ',
					'/api/instances/',
					'//',
				),
				async (method, url) => {
					const res = await t.http[method as 'get'](url).set('Authorization', `Bearer ${t.apiKey}`);
					expect(res.status).toBeLessThan(500);
				},
			),
			{ numRuns: 60 },
		);
	});
});
