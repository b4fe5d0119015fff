import { createHash, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { verifySignature } from 'whatsapp-gateway-contract';
import { ApiError } from '../http/errors';
import type { Integration } from './integrations';

/** The header 3CX sends the integration's webhook secret in (seed 001 `ThreeCxSecret`). */
export const SECRET_HEADER = 'x-whatsapp-gateway-3cx-secret';

/**
 * The one answer to every failure before a 3CX request is authenticated (seed 002): the same status,
 * headers and bytes whichever check failed, so a caller learns nothing about which one it was.
 */
export const invalidWebhook = () => new ApiError('invalid_3cx_webhook');

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
/** Compared against when the integration is unknown, so that path does the same work as a wrong secret. */
const NO_SECRET = digest('no integration has this secret');

/**
 * The secret, compared as SHA-256 digests (same length whatever was sent, constant time), and the caller's
 * address against the allowlist. Both checks always run, also for an unknown or disabled integration.
 */
export function secretAndAddressMatch(
	integration: Integration | undefined,
	givenSecret: string | undefined,
	address: string,
): boolean {
	const expected = integration ? digest(integration.secret) : NO_SECRET;
	const secretMatches = timingSafeEqual(digest(givenSecret ?? ''), expected) && givenSecret !== undefined;
	const addressAllowed = isAllowedAddress(integration?.ipAllowlist ?? [], address);
	return integration !== undefined && integration.enabled && secretMatches && addressAllowed;
}

/** An empty allowlist allows everyone; IPv4 written as IPv6 (`::ffff:10.0.0.1`) is judged as IPv4. */
export function isAllowedAddress(allowlist: string[], address: string): boolean {
	if (allowlist.length === 0) return true;
	let parsed: ipaddr.IPv4 | ipaddr.IPv6;
	try {
		parsed = ipaddr.process(address);
	} catch {
		return false;
	}
	return allowlist.some((cidr) => {
		const [network, bits] = ipaddr.parseCIDR(cidr);
		return network.kind() === parsed.kind() && parsed.match(network, bits);
	});
}

/**
 * With an HMAC secret configured: the timestamp within ±300 s of now and the signature over
 * `timestamp + "." + raw body`, as `sha256=<hex>` or bare `<hex>`. Without one there is nothing to check.
 */
export function signatureMatches(
	integration: Integration,
	headers: { timestamp: string | undefined; signature: string | undefined },
	rawBody: string,
	nowMs: number,
): boolean {
	if (integration.hmacSecret === null) return true;
	const check = verifySignature({
		secret: integration.hmacSecret,
		timestamp: headers.timestamp,
		signature: headers.signature,
		rawBody,
		nowSeconds: Math.floor(nowMs / 1000),
		allowBareHex: true,
	});
	return check.valid;
}
