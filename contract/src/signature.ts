/**
 * Signed webhook deliveries, in two schemes side by side on every delivery:
 *
 * - the seed's `X-WhatsApp-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`, which
 *   customers verify with the seed's Python `verify_webhook_signature`, so the signed bytes are exactly
 *   `${timestamp}.${rawBody}` in UTF-8 and the key is the secret's UTF-8 bytes;
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
 *   `${id}.${timestamp}.${rawBody}`), which also signs the delivery id, so a captured delivery cannot be replayed
 *   under a new id; during a secret rotation it carries one signature per valid secret.
 *
 * The gateway signs with this file, the n8n trigger nodes and the 3CX middleware verify with it. Only
 * `node:crypto` here: the file ships in the published n8n package, which may have no runtime dependencies.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADERS = {
	event: 'X-WhatsApp-Gateway-Event',
	timestamp: 'X-WhatsApp-Gateway-Timestamp',
	signature: 'X-WhatsApp-Gateway-Signature',
	delivery: 'X-WhatsApp-Gateway-Delivery',
} as const;

/** The same names as Node's `req.headers` keys them (always lower case). */
export const SIGNATURE_HEADERS_LOWER = {
	event: 'x-whatsapp-gateway-event',
	timestamp: 'x-whatsapp-gateway-timestamp',
	signature: 'x-whatsapp-gateway-signature',
	delivery: 'x-whatsapp-gateway-delivery',
} as const;

/** Five minutes each way, as Stripe and Standard Webhooks use: room for clock skew, little for replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const PREFIX = 'sha256=';
const HEX_DIGEST = /^[0-9a-f]{64}$/i;
const UNIX_SECONDS = /^[0-9]+$/;

function digest(secret: string, timestamp: string | number, rawBody: string | Buffer): Buffer {
	// Two updates instead of one concatenated string so a Buffer body is hashed as its own bytes.
	return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(rawBody).digest();
}

/**
 * `'sha256=' + hex`. A string body is hashed as UTF-8, a Buffer body byte for byte. Sign the exact
 * bytes you send; the timestamp should be whole Unix seconds or the verifier will refuse it.
 */
export function computeSignature(secret: string, timestamp: string | number, rawBody: string | Buffer): string {
	return PREFIX + digest(secret, timestamp, rawBody).toString('hex');
}

export type SignatureFailure =
	| 'missing_secret'
	| 'missing_timestamp'
	| 'invalid_timestamp'
	| 'stale_timestamp'
	| 'future_timestamp'
	| 'missing_signature'
	| 'malformed_signature'
	| 'missing_id'
	| 'mismatch';

export type SignatureCheck = { valid: true } | { valid: false; reason: SignatureFailure };

export interface VerifySignatureInput {
	secret: string;
	/** The timestamp header as received. */
	timestamp: string | undefined;
	/** The body exactly as received, before any JSON parsing. */
	rawBody: string | Buffer;
	/** The signature header as received. */
	signature: string | undefined;
	nowSeconds: number;
	toleranceSeconds?: number;
	/** Also accept `<hex>` without `sha256=` (the 3CX middleware does). */
	allowBareHex?: boolean;
}

/** Whole Unix seconds within the tolerance either way of now, or why not. */
function timestampFailure(
	timestamp: string | undefined,
	nowSeconds: number,
	toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS,
): SignatureFailure | undefined {
	if (timestamp === undefined || timestamp === '') return 'missing_timestamp';
	if (typeof timestamp !== 'string' || !UNIX_SECONDS.test(timestamp)) return 'invalid_timestamp';
	// Written as negated `<=` so a NaN `nowSeconds` fails instead of slipping through.
	const age = nowSeconds - Number(timestamp);
	if (!(age <= toleranceSeconds)) return 'stale_timestamp';
	if (!(age >= -toleranceSeconds)) return 'future_timestamp';
	return undefined;
}

/** Never throws: every problem is a `{ valid: false, reason }` the caller can log and answer 401 to. */
export function verifySignature(input: VerifySignatureInput): SignatureCheck {
	const fail = (reason: SignatureFailure): SignatureCheck => ({ valid: false, reason });
	const { secret, timestamp, signature } = input;

	// Fail closed: an HMAC keyed with '' is one anybody can compute.
	if (typeof secret !== 'string' || secret === '') return fail('missing_secret');

	const late = timestampFailure(timestamp, input.nowSeconds, input.toleranceSeconds);
	if (late) return fail(late);

	if (signature === undefined || signature === '') return fail('missing_signature');
	if (typeof signature !== 'string') return fail('malformed_signature');
	let hex: string;
	if (signature.startsWith(PREFIX)) hex = signature.slice(PREFIX.length);
	else if (input.allowBareHex === true) hex = signature;
	else return fail('malformed_signature');
	// Exactly 64 hex digits, so decoding cannot silently drop characters the way Buffer.from(hex) does.
	if (!HEX_DIGEST.test(hex)) return fail('malformed_signature');

	let expected: Buffer;
	try {
		// The timestamp passed its check above, so it is a string of digits.
		expected = digest(secret, timestamp as string, input.rawBody);
	} catch {
		// A body that is neither string nor Buffer at run time (e.g. no raw body kept): refuse, don't 500.
		return fail('mismatch');
	}
	const actual = Buffer.from(hex, 'hex');
	// timingSafeEqual throws on different lengths; both are 32 bytes here, the check keeps it that way.
	if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return fail('mismatch');
	return { valid: true };
}

// Standard Webhooks (standardwebhooks.com, v1): the delivery id is signed too.

/** Already lower case, as the spec writes them and Node's `req.headers` keys them. */
export const STANDARD_WEBHOOK_HEADERS = {
	id: 'webhook-id',
	timestamp: 'webhook-timestamp',
	signature: 'webhook-signature',
} as const;

/** The headers each delivery is signed in; the gateway lists them on every subscription it shows. */
export const DELIVERY_SIGNATURE_HEADERS: readonly string[] = [
	SIGNATURE_HEADERS.signature,
	STANDARD_WEBHOOK_HEADERS.signature,
];

const SECRET_PREFIX = 'whsec_';
const STANDARD_VERSION = 'v1';
/** Padded standard base64, as the spec's secrets and signatures are written. */
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A base64 HMAC-SHA256: 32 bytes are 43 characters and one `=`. */
const BASE64_DIGEST = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The HMAC key of the Standard Webhooks signature. A secret in the spec's form, `whsec_` + base64 (every secret the
 * gateway issues: `whsec_` + 40 base62 characters, which is base64 of 30 bytes), keys with the decoded bytes, as
 * the official libraries do when given the secret as it is. Any other secret (a 3CX integration's, which signs its
 * forwarding subscription) keys with its UTF-8 bytes; `standardWebhooksSecret` gives it in the libraries' form.
 */
export function standardWebhooksKey(secret: string): Buffer {
	if (secret.startsWith(SECRET_PREFIX)) {
		const encoded = secret.slice(SECRET_PREFIX.length);
		if (encoded !== '' && CANONICAL_BASE64.test(encoded)) return Buffer.from(encoded, 'base64');
	}
	return Buffer.from(secret, 'utf8');
}

/** The secret as the official Standard Webhooks libraries take it: `whsec_` + base64 of the key. */
export function standardWebhooksSecret(secret: string): string {
	return SECRET_PREFIX + standardWebhooksKey(secret).toString('base64');
}

function standardDigest(secret: string, id: string, timestamp: string | number, rawBody: string | Buffer): Buffer {
	return createHmac('sha256', standardWebhooksKey(secret))
		.update(`${id}.${timestamp}.`, 'utf8')
		.update(rawBody)
		.digest();
}

/** `v1,<base64>` over `${id}.${timestamp}.${rawBody}`; a string body is hashed as UTF-8, a Buffer as its bytes. */
export function computeStandardSignature(
	secret: string,
	id: string,
	timestamp: string | number,
	rawBody: string | Buffer,
): string {
	return `${STANDARD_VERSION},${standardDigest(secret, id, timestamp, rawBody).toString('base64')}`;
}

export interface DeliverySigning {
	/** The subscription's secret: it signs the seed's header and the first Standard Webhooks signature. */
	secret: string;
	/** During a rotation's overlap, the secret it replaced: a second signature in `webhook-signature`. */
	previousSecret?: string | null;
	eventType: string;
	/** The event id: the same on every retry of a delivery. */
	deliveryId: string;
	/** Whole Unix seconds of this attempt. */
	timestamp: string;
	/** The exact bytes sent. */
	body: Buffer;
}

/** Every header that identifies and signs one delivery attempt, in both schemes. */
export function signedDeliveryHeaders(input: DeliverySigning): Record<string, string> {
	const { secret, deliveryId, timestamp, body } = input;
	const secrets = input.previousSecret ? [secret, input.previousSecret] : [secret];
	return {
		[SIGNATURE_HEADERS.event]: input.eventType,
		[SIGNATURE_HEADERS.timestamp]: timestamp,
		[SIGNATURE_HEADERS.signature]: computeSignature(secret, timestamp, body),
		[SIGNATURE_HEADERS.delivery]: deliveryId,
		[STANDARD_WEBHOOK_HEADERS.id]: deliveryId,
		[STANDARD_WEBHOOK_HEADERS.timestamp]: timestamp,
		[STANDARD_WEBHOOK_HEADERS.signature]: secrets
			.map((each) => computeStandardSignature(each, deliveryId, timestamp, body))
			.join(' '),
	};
}

export interface VerifyStandardSignatureInput {
	secret: string;
	/** The three headers as received. */
	id: string | undefined;
	timestamp: string | undefined;
	signature: string | undefined;
	/** The body exactly as received, before any JSON parsing. */
	rawBody: string | Buffer;
	nowSeconds: number;
	toleranceSeconds?: number;
}

/**
 * Checks `webhook-signature` as the spec's libraries do: the timestamp within the tolerance either way, then each
 * space-separated `v1,` signature compared in constant time (other versions are skipped). Never throws.
 */
export function verifyStandardSignature(input: VerifyStandardSignatureInput): SignatureCheck {
	const fail = (reason: SignatureFailure): SignatureCheck => ({ valid: false, reason });
	const { secret, id, timestamp, signature } = input;
	if (typeof secret !== 'string' || secret === '') return fail('missing_secret');
	if (typeof id !== 'string' || id === '') return fail('missing_id');
	const late = timestampFailure(timestamp, input.nowSeconds, input.toleranceSeconds);
	if (late) return fail(late);
	if (signature === undefined || signature === '') return fail('missing_signature');
	if (typeof signature !== 'string') return fail('malformed_signature');
	const candidates = signature
		.split(' ')
		.map((entry) => entry.split(','))
		.filter(([version, value]) => version === STANDARD_VERSION && value !== undefined && BASE64_DIGEST.test(value));
	if (candidates.length === 0) return fail('malformed_signature');
	let expected: Buffer;
	try {
		expected = standardDigest(secret, id, timestamp as string, input.rawBody);
	} catch {
		return fail('mismatch');
	}
	// Every candidate is compared, so the time taken does not tell which one matched.
	let matched = false;
	for (const [, value] of candidates) {
		if (timingSafeEqual(Buffer.from(value, 'base64'), expected)) matched = true;
	}
	return matched ? { valid: true } : fail('mismatch');
}
