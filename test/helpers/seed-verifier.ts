import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A line-by-line Node port of the customer-side verifier in seed 004, kept deliberately naive so it
 * checks our signer instead of sharing code with it:
 *
 *   def verify_webhook_signature(timestamp, raw_body, signature, secret):
 *       digest = hmac.new(secret.encode(), f'{timestamp}.{raw_body}'.encode(), hashlib.sha256).hexdigest()
 *       expected = f'sha256={digest}'
 *       return hmac.compare_digest(expected, signature)
 *
 * `raw_body` there is Flask's `request.get_data(as_text=True)`, the body decoded as UTF-8 text; a
 * Buffer given here is decoded the same way before use.
 */
export function seedVerifyWebhookSignature(
	timestamp: string,
	rawBody: string | Buffer,
	signature: string,
	secret: string,
): boolean {
	const rawBodyText = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
	const key = Buffer.from(secret, 'utf8'); // secret.encode()
	const message = Buffer.from(`${timestamp}.${rawBodyText}`, 'utf8'); // f'{timestamp}.{raw_body}'.encode()
	const digest = createHmac('sha256', key).update(message).digest('hex'); // .hexdigest()
	const expected = `sha256=${digest}`;
	return compareDigest(expected, signature);
}

/**
 * `hmac.compare_digest(a, b)` for two str: only ASCII strings are accepted (TypeError otherwise),
 * different lengths give False, equal lengths are compared in constant time.
 */
export function compareDigest(a: string, b: string): boolean {
	// eslint-disable-next-line no-control-regex
	const ascii = /^[\x00-\x7f]*$/;
	if (!ascii.test(a) || !ascii.test(b)) {
		throw new TypeError('comparing strings with non-ASCII characters is not supported');
	}
	const left = Buffer.from(a, 'ascii');
	const right = Buffer.from(b, 'ascii');
	if (left.length !== right.length) return false;
	return timingSafeEqual(left, right);
}
