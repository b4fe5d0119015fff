import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InputError } from '../input-error';

/**
 * Checks on customer webhook URLs, against SSRF: the gateway must not become a way to reach its own
 * host, the LAN or a cloud metadata service. Every resolved address is checked, not just the first
 * (a host with one public and one internal address is refused), and `guardedLookup` repeats the check
 * at connect time on the addresses actually connected to, so a DNS answer that changes between the
 * check and the delivery (rebinding) is caught too. Redirects must not be followed by the caller.
 */

export type AddressClass =
	'public' | 'private' | 'loopback' | 'link_local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

export interface DestinationOptions {
	/** Allow private (RFC 1918, CGNAT, ULA) and loopback addresses: self-hosted n8n often lives there. */
	allowPrivate: boolean;
	/** What the URL is, in messages: "webhook destination" unless said otherwise ("media URL"). */
	subject?: string;
	/**
	 * A host name that does not resolve here passes (with private addresses allowed only): for a URL another
	 * system fetches, which may resolve it where the gateway cannot.
	 */
	allowUnresolved?: boolean;
}

const subjectOf = (options: DestinationOptions) => options.subject ?? 'webhook destination';

/** The `code` of the error `guardedLookup` fails a connection with. */
export const DESTINATION_REFUSED = 'EDESTINATIONREFUSED';

const MAX_URL_LENGTH = 2048;

/**
 * Cloud instance metadata endpoints. Some sit inside ranges that `allowPrivate` would open (Alibaba's
 * in CGNAT space, AWS's IPv6 one in ULA space) or in public space (Azure's WireServer), so they are
 * named one by one and refused whatever the switch says.
 */
const METADATA = [
	'169.254.169.254/32', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle IMDS
	'169.254.170.2/32', // AWS ECS task metadata
	'100.100.100.200/32', // Alibaba Cloud
	'168.63.129.16/32', // Azure WireServer
	'fd00:ec2::254/128', // AWS IMDS over IPv6
].map((cidr) => ipaddr.parseCIDR(cidr));

/** IANA assigns global unicast IPv6 only from 2000::/3; anything else ipaddr.js calls "unicast" is unassigned. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
/** NAT64 well-known prefix: DNS64 answers with it on IPv6-only networks, so judge the IPv4 inside. */
const NAT64_V6 = ipaddr.parseCIDR('64:ff9b::/96');

/** `http://[::1]/` has hostname `[::1]`; DNS and ipaddr.js want it without brackets. */
function bareHost(hostname: string): string {
	return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** IPv4 carried inside IPv6 (mapped `::ffff:a.b.c.d`, NAT64) is judged as the IPv4 it reaches. */
function unwrap(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
	if (address.kind() !== 'ipv6') return address;
	const v6 = address as ipaddr.IPv6;
	if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
	if (v6.match(NAT64_V6)) {
		const [high, low] = v6.parts.slice(6);
		return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
	}
	return v6;
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, [network, bits]: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
	return address.kind() === network.kind() && address.match(network, bits);
}

/** Throws `InputError` when `ip` is not an IP address. */
export function classifyAddress(ip: string): AddressClass {
	const text = bareHost(ip);
	if (!ipaddr.isValid(text)) throw new InputError(`"${ip}" is not an IP address`);
	const address = unwrap(ipaddr.parse(text));
	if (METADATA.some((range) => inRange(address, range))) return 'metadata';
	switch (address.range()) {
		case 'unicast':
			return address.kind() === 'ipv6' && !inRange(address, GLOBAL_UNICAST_V6) ? 'reserved' : 'public';
		case 'private':
		case 'carrierGradeNat':
		case 'uniqueLocal':
			return 'private';
		case 'loopback':
			return 'loopback';
		case 'linkLocal':
			return 'link_local';
		case 'unspecified':
			return 'unspecified';
		case 'multicast':
			return 'multicast';
		default:
			// broadcast, documentation, benchmarking, 240/4, 6to4, Teredo, site-local, discard, ORCHID…:
			// nothing a customer's webhook legitimately lives on.
			return 'reserved';
	}
}

function isAllowedClass(addressClass: AddressClass, options: DestinationOptions): boolean {
	if (addressClass === 'public') return true;
	if (addressClass === 'private' || addressClass === 'loopback') return options.allowPrivate;
	return false;
}

/** Link-local, metadata, unspecified, multicast, reserved and non-IPs are always refused. */
export function isAllowedAddress(ip: string, options: DestinationOptions): boolean {
	try {
		return isAllowedClass(classifyAddress(ip), options);
	} catch {
		return false;
	}
}

/**
 * Why a destination is refused. An IP literal is described as what it is (the customer typed it). A host
 * name is not: with private destinations blocked, the gateway is shared, and naming the address a host
 * resolves to, or whether it resolves at all, would map the operator's internal DNS for any tenant. So
 * every refusal of a host name (internal address, no address, no answer) reads the same.
 */
function refusal(hostname: string, address: string, options: DestinationOptions): string {
	if (hostname !== address && !options.allowPrivate) return hostNotAllowed(hostname, options);
	let addressClass: string;
	try {
		addressClass = classifyAddress(address).replace('_', '-');
	} catch {
		addressClass = 'unrecognised';
	}
	const hint =
		(addressClass === 'private' || addressClass === 'loopback') && !options.allowPrivate
			? '; private and loopback destinations must be allowed explicitly'
			: '';
	const shown = hostname === address ? address : `${hostname} (${address})`;
	return `${subjectOf(options)} ${shown} is a ${addressClass} address, which is not allowed${hint}`;
}

function hostNotAllowed(hostname: string, options: DestinationOptions): string {
	return `${subjectOf(options)} ${hostname} is not allowed: its host name must resolve to public internet addresses only`;
}

/** http or https, no credentials, a host, at most 2048 characters. Throws `InputError` otherwise. */
export function parseDestinationUrl(text: string): URL {
	if (typeof text !== 'string' || text.trim() === '') throw new InputError('webhook URL must not be empty');
	if (text.length > MAX_URL_LENGTH) throw new InputError(`webhook URL must be at most ${MAX_URL_LENGTH} characters`);
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new InputError(`webhook URL "${text}" is not a valid absolute URL`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new InputError(`webhook URL must use http or https, not ${url.protocol.replace(/:$/, '')}`);
	}
	// Credentials in the URL would be stored and logged with it; a signed delivery needs none.
	if (url.username !== '' || url.password !== '')
		throw new InputError('webhook URL must not contain a user name or password');
	if (url.hostname === '') throw new InputError('webhook URL must name a host');
	return url;
}

async function defaultLookup(host: string): Promise<string[]> {
	const found = await dns.promises.lookup(host, { all: true, verbatim: true });
	return found.map((entry) => entry.address);
}

/**
 * Resolves the URL's host (all addresses; an IP literal as is) and throws `InputError` if any address
 * is refused or the host does not resolve. Use at registration and before each delivery; pair with
 * `guardedLookup` for the connection itself.
 */
export async function checkDestination(
	url: URL,
	options: DestinationOptions & { lookup?: (host: string) => Promise<string[]> },
): Promise<void> {
	const host = bareHost(url.hostname);
	let addresses: string[];
	if (isIP(host) !== 0) {
		addresses = [host];
	} else {
		try {
			addresses = await (options.lookup ?? defaultLookup)(host);
		} catch (error) {
			if (!options.allowPrivate) throw new InputError(hostNotAllowed(host, options));
			if (options.allowUnresolved) return;
			const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
			throw new InputError(`${subjectOf(options)} ${host} could not be resolved (${code})`);
		}
		if (addresses.length === 0) {
			throw new InputError(
				options.allowPrivate ? `${subjectOf(options)} ${host} resolved to no address` : hostNotAllowed(host, options),
			);
		}
	}
	for (const address of addresses) {
		if (!isAllowedAddress(address, options)) throw new InputError(refusal(host, address, options));
	}
}

/**
 * A `lookup` for `http.Agent`/`https.Agent` (or `net.connect`) that refuses the connection when any
 * address the host resolves to is refused; the error's `code` is `EDESTINATIONREFUSED`. Node skips
 * `lookup` for IP-literal hosts, which cannot rebind: `checkDestination` covers those.
 */
export function guardedLookup(options: DestinationOptions): LookupFunction {
	return (hostname, lookupOptions, callback) => {
		dns.lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
			// The reason of a failed attempt is shown to the tenant (webhook health): with private destinations
			// blocked, a name that does not resolve must read like one that resolves to an internal address.
			if (error && options.allowPrivate) return callback(error, []);
			const refused = error ? undefined : addresses.find((entry) => !isAllowedAddress(entry.address, options));
			if (error || refused || addresses.length === 0) {
				const message = refused
					? refusal(hostname, refused.address, options)
					: options.allowPrivate
						? `${subjectOf(options)} ${hostname} resolved to no address`
						: hostNotAllowed(hostname, options);
				const refusedError: NodeJS.ErrnoException = Object.assign(new Error(message), {
					code: DESTINATION_REFUSED,
					hostname,
				});
				return callback(refusedError, []);
			}
			if (lookupOptions.all) return callback(null, addresses);
			return callback(null, addresses[0].address, addresses[0].family);
		});
	};
}
