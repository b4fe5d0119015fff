import { spawnSync } from 'node:child_process';
import {
	computeSignature,
	computeStandardSignature,
	SIGNATURE_HEADERS,
	SIGNATURE_HEADERS_LOWER,
	SIGNATURE_TOLERANCE_SECONDS,
	signedDeliveryHeaders,
	STANDARD_WEBHOOK_HEADERS,
	standardWebhooksKey,
	standardWebhooksSecret,
	verifySignature,
	verifyStandardSignature,
	type VerifySignatureInput,
	type VerifyStandardSignatureInput,
} from '../../contract/src/signature';
import { seedVerifyWebhookSignature } from '../helpers/seed-verifier';
import { officialLibraryVerifies } from '../helpers/standard-webhooks-verifier';

const SECRET = "It's a Secret to Everybody";
const NOW = 1778234400; // 2026-05-08T10:00:00Z, the ManualClock default
const BODY = '{"event":"message.received","data":{"text":"Hello, World!"}}';

const ASCII_BODY = '{"event":"message.received","data":{"from":"+966501234567","text":"Your order has shipped."}}';
const ARABIC_EMOJI_BODY = '{"event":"message.received","data":{"text":"مرحبا، طلبك في الطريق 🚚💬 غ"}}';
const CRLF_BODY = '{"event":"message.received","data":{"text":"line one\r\nline two"}}\r\n';

describe('header names', () => {
	it('are the contract names, with lower-case twins for req.headers', () => {
		expect(SIGNATURE_HEADERS).toEqual({
			event: 'X-WhatsApp-Gateway-Event',
			timestamp: 'X-WhatsApp-Gateway-Timestamp',
			signature: 'X-WhatsApp-Gateway-Signature',
			delivery: 'X-WhatsApp-Gateway-Delivery',
		});
		for (const key of Object.keys(SIGNATURE_HEADERS) as Array<keyof typeof SIGNATURE_HEADERS>) {
			expect(SIGNATURE_HEADERS_LOWER[key]).toBe(SIGNATURE_HEADERS[key].toLowerCase());
		}
		expect(SIGNATURE_TOLERANCE_SECONDS).toBe(300);
	});
});

describe('known vectors', () => {
	it('signs `timestamp.body` exactly as the seed formula does', () => {
		// Computed once, independently, with the seed's formula:
		//   python3 -c "import hmac, hashlib; print('sha256=' + hmac.new(\"It's a Secret to Everybody\".encode(), f'{1778234400}.{\"Hello, World!\"}'.encode(), hashlib.sha256).hexdigest())"
		// and cross-checked with:
		//   printf '%s' '1778234400.Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"
		const expected = 'sha256=4eccf5a8d7efcf49e71e03aceefe2bcec1e94251513a193f7bf252f97802bfc4';
		expect(computeSignature(SECRET, 1778234400, 'Hello, World!')).toBe(expected);
		expect(computeSignature(SECRET, '1778234400', 'Hello, World!')).toBe(expected);
		expect(computeSignature(SECRET, '1778234400', Buffer.from('Hello, World!', 'utf8'))).toBe(expected);
	});

	it('hashes a string body as UTF-8 and a Buffer body as its bytes (same result for the same text)', () => {
		expect(computeSignature(SECRET, NOW, ARABIC_EMOJI_BODY)).toBe(
			computeSignature(SECRET, NOW, Buffer.from(ARABIC_EMOJI_BODY, 'utf8')),
		);
		// Not latin1 or UTF-16: the text and its bytes must sign alike only under UTF-8.
		expect(computeSignature(SECRET, NOW, ARABIC_EMOJI_BODY)).not.toBe(
			computeSignature(SECRET, NOW, Buffer.from(ARABIC_EMOJI_BODY, 'utf16le')),
		);
	});
});

describe('the seed verifier (Node port of verify_webhook_signature) accepts our signatures', () => {
	it.each([
		['ASCII', ASCII_BODY],
		['Arabic and emoji (multi-byte UTF-8)', ARABIC_EMOJI_BODY],
		['CRLF line endings', CRLF_BODY],
	])('%s body', (_label, body) => {
		const signature = computeSignature(SECRET, NOW, body);
		// As text (what Flask's get_data(as_text=True) yields) and as the raw bytes we put on the wire.
		expect(seedVerifyWebhookSignature(String(NOW), body, signature, SECRET)).toBe(true);
		expect(seedVerifyWebhookSignature(String(NOW), Buffer.from(body, 'utf8'), signature, SECRET)).toBe(true);
		// And our own verifier agrees.
		expect(
			verifySignature({
				secret: SECRET,
				timestamp: String(NOW),
				rawBody: Buffer.from(body, 'utf8'),
				signature,
				nowSeconds: NOW,
			}),
		).toEqual({ valid: true });
	});

	it('refuses a changed body, a wrong secret and a bare hex digest', () => {
		const signature = computeSignature(SECRET, NOW, ARABIC_EMOJI_BODY);
		expect(seedVerifyWebhookSignature(String(NOW), ARABIC_EMOJI_BODY.replace('🚚', '🚛'), signature, SECRET)).toBe(
			false,
		);
		expect(seedVerifyWebhookSignature(String(NOW), ARABIC_EMOJI_BODY, signature, 'another secret')).toBe(false);
		expect(seedVerifyWebhookSignature(String(NOW), ARABIC_EMOJI_BODY, signature.slice('sha256='.length), SECRET)).toBe(
			false,
		);
	});
});

/**
 * The seed's function, verbatim, run by the real python3. The body travels as base64 of its UTF-8
 * bytes and is decoded with .decode('utf-8'), which is what Flask's get_data(as_text=True) does.
 */
const PYTHON_SEED = `
import base64, hashlib, hmac, json, sys

def verify_webhook_signature(timestamp, raw_body, signature, secret):
    digest = hmac.new(secret.encode(), f'{timestamp}.{raw_body}'.encode(), hashlib.sha256).hexdigest()
    expected = f'sha256={digest}'
    return hmac.compare_digest(expected, signature)

args = json.loads(sys.stdin.buffer.read().decode('utf-8'))
raw_body = base64.b64decode(args['body']).decode('utf-8')
print(json.dumps([verify_webhook_signature(args['timestamp'], raw_body, s, args['secret']) for s in args['signatures']]))
`;

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const hasPython = python.error === undefined && python.status === 0;
const pythonTest = hasPython ? it : it.skip;
const pythonTitle = hasPython
	? "real python3 runs the seed's verify_webhook_signature and accepts our signature of an Arabic body byte for byte"
	: 'real python3 seed verifier on an Arabic body: SKIPPED, python3 is not on PATH (the Node port above still ran)';

describe('the real seed verifier', () => {
	pythonTest(pythonTitle, () => {
		const bytes = Buffer.from(ARABIC_EMOJI_BODY, 'utf8');
		const good = computeSignature(SECRET, NOW, bytes);
		const tampered = computeSignature(SECRET, NOW, ARABIC_EMOJI_BODY + ' ');
		const run = spawnSync('python3', ['-c', PYTHON_SEED], {
			input: JSON.stringify({
				timestamp: String(NOW),
				secret: SECRET,
				body: bytes.toString('base64'),
				signatures: [good, tampered],
			}),
			encoding: 'utf8',
		});
		expect(run.stderr).toBe('');
		expect(run.status).toBe(0);
		expect(JSON.parse(run.stdout)).toEqual([true, false]);
	});
});

describe('verifySignature', () => {
	const signed = (overrides: Partial<VerifySignatureInput> = {}): VerifySignatureInput => ({
		secret: SECRET,
		timestamp: String(NOW),
		rawBody: BODY,
		signature: computeSignature(SECRET, NOW, BODY),
		nowSeconds: NOW,
		...overrides,
	});
	/** A request signed `offset` seconds away from now, checked at NOW. */
	const signedAt = (offset: number): VerifySignatureInput =>
		signed({ timestamp: String(NOW + offset), signature: computeSignature(SECRET, NOW + offset, BODY) });
	const hex = computeSignature(SECRET, NOW, BODY).slice('sha256='.length);

	it('accepts a good signature, string or Buffer body', () => {
		expect(verifySignature(signed())).toEqual({ valid: true });
		expect(verifySignature(signed({ rawBody: Buffer.from(BODY, 'utf8') }))).toEqual({ valid: true });
	});

	it.each<[string, Partial<VerifySignatureInput>, string]>([
		['empty secret (fails closed)', { secret: '' }, 'missing_secret'],
		[
			'empty secret even with an empty-key signature',
			{ secret: '', signature: computeSignature('', NOW, BODY) },
			'missing_secret',
		],
		['missing timestamp header', { timestamp: undefined }, 'missing_timestamp'],
		['empty timestamp header', { timestamp: '' }, 'missing_timestamp'],
		['missing signature header', { signature: undefined }, 'missing_signature'],
		['empty signature header', { signature: '' }, 'missing_signature'],
		['non-numeric timestamp', { timestamp: 'yesterday' }, 'invalid_timestamp'],
		['ISO timestamp', { timestamp: '2026-05-08T10:00:00Z' }, 'invalid_timestamp'],
		['negative timestamp', { timestamp: `-${NOW}` }, 'invalid_timestamp'],
		['fractional timestamp', { timestamp: `${NOW}.5` }, 'invalid_timestamp'],
		['timestamp with spaces', { timestamp: ` ${NOW}` }, 'invalid_timestamp'],
		['timestamp in milliseconds (far future)', { timestamp: String(NOW * 1000) }, 'future_timestamp'],
		['NaN clock', { nowSeconds: Number.NaN }, 'stale_timestamp'],
		['one byte of the body changed', { rawBody: BODY.replace('Hello', 'Jello') }, 'mismatch'],
		['one byte appended to the body', { rawBody: Buffer.concat([Buffer.from(BODY), Buffer.from('\n')]) }, 'mismatch'],
		['wrong secret', { secret: "It's a Secret to Nobody" }, 'mismatch'],
		['signature for another timestamp', { signature: computeSignature(SECRET, NOW - 1, BODY) }, 'mismatch'],
		['prefix sha1=', { signature: `sha1=${hex}` }, 'malformed_signature'],
		['prefix SHA256= (case matters, as in the seed)', { signature: `SHA256=${hex}` }, 'malformed_signature'],
		['prefix v1, (Standard Webhooks style)', { signature: `v1,${hex}` }, 'malformed_signature'],
		['truncated hex', { signature: `sha256=${hex.slice(0, 63)}` }, 'malformed_signature'],
		['odd trailing hex digit', { signature: `sha256=${hex}0` }, 'malformed_signature'],
		['non-hex characters', { signature: `sha256=${'z'.repeat(64)}` }, 'malformed_signature'],
		['base64 digest', { signature: `sha256=${Buffer.from(hex, 'hex').toString('base64')}` }, 'malformed_signature'],
		['bare hex by default', { signature: hex }, 'malformed_signature'],
		[
			'bare hex truncated, even when allowed',
			{ signature: hex.slice(0, 62), allowBareHex: true },
			'malformed_signature',
		],
	])('refuses %s', (_label, overrides, reason) => {
		expect(verifySignature(signed(overrides))).toEqual({ valid: false, reason });
	});

	it('accepts upper-case hex', () => {
		expect(verifySignature(signed({ signature: `sha256=${hex.toUpperCase()}` }))).toEqual({ valid: true });
	});

	it('accepts bare hex only with allowBareHex (the 3CX middleware), and the prefixed form still', () => {
		expect(verifySignature(signed({ signature: hex, allowBareHex: true }))).toEqual({ valid: true });
		expect(verifySignature(signed({ signature: hex.toUpperCase(), allowBareHex: true }))).toEqual({ valid: true });
		expect(verifySignature(signed({ allowBareHex: true }))).toEqual({ valid: true });
		expect(
			verifySignature(signed({ signature: hex.replace(/^./, (c) => (c === '0' ? '1' : '0')), allowBareHex: true })),
		).toEqual({
			valid: false,
			reason: 'mismatch',
		});
	});

	it('accepts timestamps exactly 300 s old or ahead and refuses 301 s either way', () => {
		expect(verifySignature(signedAt(-300))).toEqual({ valid: true });
		expect(verifySignature(signedAt(300))).toEqual({ valid: true });
		expect(verifySignature(signedAt(-301))).toEqual({ valid: false, reason: 'stale_timestamp' });
		expect(verifySignature(signedAt(301))).toEqual({ valid: false, reason: 'future_timestamp' });
	});

	it('honours a custom tolerance', () => {
		expect(verifySignature({ ...signedAt(-60), toleranceSeconds: 30 })).toEqual({
			valid: false,
			reason: 'stale_timestamp',
		});
		expect(verifySignature({ ...signedAt(-600), toleranceSeconds: 900 })).toEqual({ valid: true });
	});

	it('checks the window before the signature, so a replayed good signature is still stale', () => {
		const replay = signed();
		expect(verifySignature({ ...replay, nowSeconds: NOW + 301 })).toEqual({ valid: false, reason: 'stale_timestamp' });
	});

	it('never throws, even on values the types forbid', () => {
		const bad = (value: unknown) => value as never;
		expect(verifySignature(signed({ secret: bad(undefined) }))).toEqual({ valid: false, reason: 'missing_secret' });
		expect(verifySignature(signed({ timestamp: bad(NOW) }))).toEqual({ valid: false, reason: 'invalid_timestamp' });
		expect(verifySignature(signed({ signature: bad(['sha256=00']) }))).toEqual({
			valid: false,
			reason: 'malformed_signature',
		});
		expect(verifySignature(signed({ rawBody: bad(undefined) }))).toEqual({ valid: false, reason: 'mismatch' });
		expect(verifySignature(signed({ rawBody: bad({ parsed: 'json' }) }))).toEqual({ valid: false, reason: 'mismatch' });
	});
});

describe('Standard Webhooks', () => {
	const ID = 'evt_2xVb9QkTn4RmC8LpZs6YwJhD';
	/** The form the gateway issues: `whsec_` + 40 base62 characters (base64 of 30 bytes). */
	const ISSUED = 'whsec_MfKQ9r3ZdmT4ZGdR2xQv8Hh6b1YyJcWkP0sAeLnU';

	it('reproduces the specification’s published test vector', () => {
		expect(
			computeStandardSignature(
				'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
				'msg_p5jXN8AQM9LWM0D4loKWxJek',
				1614265330,
				'{"test": 2432232314}',
			),
		).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
	});

	it('keys a secret the gateway issues with its base64-decoded bytes, any other secret with its UTF-8 bytes', () => {
		// Computed independently with python3's hmac, hashlib and base64:
		//   key = base64.b64decode(ISSUED[6:], validate=True)   (30 bytes)
		//   base64.b64encode(hmac.new(key, f'{ID}.{NOW}.{BODY}'.encode(), hashlib.sha256).digest())
		expect(standardWebhooksKey(ISSUED)).toHaveLength(30);
		expect(computeStandardSignature(ISSUED, ID, NOW, BODY)).toBe('v1,APR4/zuBLoco46I/QFh/00teH4oq0FwE7CUTVAMMjTo=');
		//   hmac.new("It's a Secret to Everybody".encode(), …)
		expect(computeStandardSignature(SECRET, ID, NOW, BODY)).toBe('v1,lBev8YCidHAFGsKnr9N72w/6frq2H4epWVJjC1U4xKE=');
		// What the official libraries take for such a secret: whsec_ + base64 of its UTF-8 bytes.
		expect(standardWebhooksSecret(SECRET)).toBe('whsec_SXQncyBhIFNlY3JldCB0byBFdmVyeWJvZHk=');
		expect(standardWebhooksSecret(ISSUED)).toBe(ISSUED);
		// Not canonical base64 after the prefix: its UTF-8 bytes.
		expect(standardWebhooksKey('whsec_abc')).toEqual(Buffer.from('whsec_abc', 'utf8'));
		expect(standardWebhooksKey('whsec_')).toEqual(Buffer.from('whsec_', 'utf8'));
	});

	it('the official library (a Node port of its verify) accepts our headers with the secret as issued', () => {
		const body = Buffer.from(ARABIC_EMOJI_BODY, 'utf8');
		const headers = signedDeliveryHeaders({
			secret: ISSUED,
			eventType: 'message.received',
			deliveryId: ID,
			timestamp: String(NOW),
			body,
		});
		expect(officialLibraryVerifies(ISSUED, body, headers)).toBe(true);
		expect(officialLibraryVerifies(standardWebhooksSecret(SECRET), body, headers)).toBe(false);
		// And the seed's verifier accepts the seed's headers of the same delivery, byte for byte.
		expect(seedVerifyWebhookSignature(String(NOW), body, headers[SIGNATURE_HEADERS.signature], ISSUED)).toBe(true);
		expect(headers[STANDARD_WEBHOOK_HEADERS.id]).toBe(headers[SIGNATURE_HEADERS.delivery]);
		expect(headers[STANDARD_WEBHOOK_HEADERS.timestamp]).toBe(headers[SIGNATURE_HEADERS.timestamp]);

		// A secret in another form verifies once converted as docs/events.md says.
		const other = signedDeliveryHeaders({
			secret: SECRET,
			eventType: 'e',
			deliveryId: ID,
			timestamp: String(NOW),
			body,
		});
		expect(officialLibraryVerifies(standardWebhooksSecret(SECRET), body, other)).toBe(true);
	});

	it('signs with both secrets during a rotation, the seed header with the current one only', () => {
		const headers = signedDeliveryHeaders({
			secret: ISSUED,
			previousSecret: SECRET,
			eventType: 'message.received',
			deliveryId: ID,
			timestamp: String(NOW),
			body: Buffer.from(BODY),
		});
		expect(headers[STANDARD_WEBHOOK_HEADERS.signature]).toBe(
			`${computeStandardSignature(ISSUED, ID, NOW, BODY)} ${computeStandardSignature(SECRET, ID, NOW, BODY)}`,
		);
		expect(headers[SIGNATURE_HEADERS.signature]).toBe(computeSignature(ISSUED, NOW, BODY));
	});

	describe('verifyStandardSignature', () => {
		const signed = (overrides: Partial<VerifyStandardSignatureInput> = {}): VerifyStandardSignatureInput => ({
			secret: ISSUED,
			id: ID,
			timestamp: String(NOW),
			rawBody: BODY,
			signature: computeStandardSignature(ISSUED, ID, NOW, BODY),
			nowSeconds: NOW,
			...overrides,
		});
		const good = computeStandardSignature(ISSUED, ID, NOW, BODY);
		const other = computeStandardSignature(SECRET, ID, NOW, BODY);

		it('accepts a good signature, alone or among others (a rotation), with unknown versions skipped', () => {
			expect(verifyStandardSignature(signed())).toEqual({ valid: true });
			expect(verifyStandardSignature(signed({ rawBody: Buffer.from(BODY) }))).toEqual({ valid: true });
			expect(verifyStandardSignature(signed({ signature: `${other} ${good}` }))).toEqual({ valid: true });
			expect(verifyStandardSignature(signed({ signature: `${good} ${other}` }))).toEqual({ valid: true });
			expect(verifyStandardSignature(signed({ signature: `v1a,${'A'.repeat(86)}== ${good}` }))).toEqual({
				valid: true,
			});
			// The secret that was rotated away verifies the second signature.
			expect(verifyStandardSignature(signed({ secret: SECRET, signature: `${good} ${other}` }))).toEqual({
				valid: true,
			});
		});

		it('accepts timestamps exactly 300 s away and refuses 301 s either way', () => {
			const at = (offset: number) =>
				signed({
					timestamp: String(NOW + offset),
					signature: computeStandardSignature(ISSUED, ID, NOW + offset, BODY),
				});
			expect(verifyStandardSignature(at(-300))).toEqual({ valid: true });
			expect(verifyStandardSignature(at(300))).toEqual({ valid: true });
			expect(verifyStandardSignature(at(-301))).toEqual({ valid: false, reason: 'stale_timestamp' });
			expect(verifyStandardSignature(at(301))).toEqual({ valid: false, reason: 'future_timestamp' });
		});

		it.each<[string, Partial<VerifyStandardSignatureInput>, string]>([
			['empty secret', { secret: '' }, 'missing_secret'],
			['missing webhook-id', { id: undefined }, 'missing_id'],
			['missing webhook-timestamp', { timestamp: undefined }, 'missing_timestamp'],
			['non-numeric webhook-timestamp', { timestamp: 'now' }, 'invalid_timestamp'],
			['missing webhook-signature', { signature: undefined }, 'missing_signature'],
			[
				'the seed scheme in webhook-signature',
				{ signature: computeSignature(ISSUED, NOW, BODY) },
				'malformed_signature',
			],
			['only another version', { signature: good.replace('v1,', 'v2,') }, 'malformed_signature'],
			['a truncated signature', { signature: good.slice(0, -2) }, 'malformed_signature'],
			['one byte of the body changed', { rawBody: BODY.replace('Hello', 'Jello') }, 'mismatch'],
			['another webhook-id (a replay under a new id)', { id: 'evt_replayed' }, 'mismatch'],
			['another timestamp', { timestamp: String(NOW - 1) }, 'mismatch'],
			['a wrong secret', { secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'mismatch'],
			['the rotated-away secret once the overlap ended', { secret: SECRET }, 'mismatch'],
		])('refuses %s', (_label, overrides, reason) => {
			expect(verifyStandardSignature(signed(overrides))).toEqual({ valid: false, reason });
		});
	});
});
