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

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Each allowlist range parsed once (they are validated when saved): no range is parsed while a request waits. */
const parsedRanges = new Map<string, Range>();
function rangeOf(cidr: string): Range {
	let range = parsedRanges.get(cidr);
	if (!range) {
		range = ipaddr.parseCIDR(cidr);
		parsedRanges.set(cidr, range);
	}
	return range;
}

/** Matched against when there is no allowlist, so every request does the same work whatever the integration. */
const NO_ALLOWLIST: Range[] = [ipaddr.parseCIDR('192.0.2.0/24')];

/**
 * An empty allowlist allows everyone; IPv4 written as IPv6 (`::ffff:10.0.0.1`) is judged as IPv4. The address
 * is parsed and matched against every range (a stand-in when there is none) for an unknown integration, one
 * without an allowlist and one with: the answer's timing does not tell them apart.
 */
export function isAllowedAddress(allowlist: string[], address: string): boolean {
	let parsed: ipaddr.IPv4 | ipaddr.IPv6 | undefined;
	try {
		parsed = ipaddr.process(address);
	} catch {
		parsed = undefined;
	}
	const ranges = allowlist.length === 0 ? NO_ALLOWLIST : allowlist.map(rangeOf);
	let matched = false;
	for (const [network, bits] of ranges) {
		if (parsed !== undefined && network.kind() === parsed.kind() && parsed.match(network, bits)) matched = true;
	}
	return allowlist.length === 0 || matched;
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
