import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A naive Node port of the official Standard Webhooks JavaScript library's `new Webhook(secret).verify(payload,
 * headers)` (the `standardwebhooks` package), kept apart from our signer so it checks it: the secret loses its
 * `whsec_` prefix and is base64-decoded into the key; the signed content is `${id}.${timestamp}.${payload}`; each
 * space-separated `v1,<base64>` entry is compared with the expected base64. Timestamps are not checked here.
 */
export function officialLibraryVerifies(
	secret: string,
	payload: string | Buffer,
	headers: Record<string, string | string[] | undefined>,
): boolean {
	const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
	const id = String(headers['webhook-id'] ?? '');
	const timestamp = String(headers['webhook-timestamp'] ?? '');
	const signatures = String(headers['webhook-signature'] ?? '');
	if (id === '' || timestamp === '' || signatures === '') return false;
	const text = typeof payload === 'string' ? payload : payload.toString();
	const expected = createHmac('sha256', key)
		.update(`${id}.${Number.parseInt(timestamp, 10)}.${text}`)
		.digest('base64');
	return signatures.split(' ').some((entry) => {
		const [version, signature] = entry.split(',');
		if (version !== 'v1' || signature === undefined) return false;
		const left = Buffer.from(signature);
		const right = Buffer.from(expected);
		return left.length === right.length && timingSafeEqual(left, right);
	});
}
