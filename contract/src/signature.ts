/**
 * Signed webhook deliveries: `X-WhatsApp-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`.
 *
 * This is the contract customers verify with the seed's Python `verify_webhook_signature`, so the
 * signed bytes are exactly `${timestamp}.${rawBody}` in UTF-8. The gateway signs with it, the n8n
 * trigger nodes and the 3CX middleware verify with it. Only `node:crypto` here: the file ships in the
 * published n8n package, which may have no runtime dependencies.
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

/** Never throws: every problem is a `{ valid: false, reason }` the caller can log and answer 401 to. */
export function verifySignature(input: VerifySignatureInput): SignatureCheck {
	const fail = (reason: SignatureFailure): SignatureCheck => ({ valid: false, reason });
	const { secret, timestamp, signature } = input;

	// Fail closed: an HMAC keyed with '' is one anybody can compute.
	if (typeof secret !== 'string' || secret === '') return fail('missing_secret');

	if (timestamp === undefined || timestamp === '') return fail('missing_timestamp');
	if (typeof timestamp !== 'string' || !UNIX_SECONDS.test(timestamp)) return fail('invalid_timestamp');
	// Written as negated `<=` so a NaN `nowSeconds` fails instead of slipping through.
	const age = input.nowSeconds - Number(timestamp);
	const tolerance = input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
	if (!(age <= tolerance)) return fail('stale_timestamp');
	if (!(age >= -tolerance)) return fail('future_timestamp');

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
		expected = digest(secret, timestamp, input.rawBody);
	} catch {
		// A body that is neither string nor Buffer at run time (e.g. no raw body kept): refuse, don't 500.
		return fail('mismatch');
	}
	const actual = Buffer.from(hex, 'hex');
	// timingSafeEqual throws on different lengths; both are 32 bytes here, the check keeps it that way.
	if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return fail('mismatch');
	return { valid: true };
}
