/**
 * The Idempotency-Key rule, shared by the gateway (which enforces it) and the Send node (which checks an
 * override before sending): 1 to 255 visible ASCII characters.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export const IDEMPOTENCY_KEY_RULE = 'must be 1-255 visible ASCII characters';

export function isValidIdempotencyKey(value: string): boolean {
	return IDEMPOTENCY_KEY_PATTERN.test(value);
}
