import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
	checkDestination,
	classifyAddress,
	DESTINATION_REFUSED,
	guardedLookup,
	isAllowedAddress,
	parseDestinationUrl,
	type AddressClass,
} from '../../server/src/events/destination';
import { InputError } from '../../server/src/input-error';

describe('classifyAddress', () => {
	it.each<[string, AddressClass]>([
		// IPv4
		['93.184.215.14', 'public'],
		['8.8.8.8', 'public'],
		['1.1.1.1', 'public'],
		['10.0.0.1', 'private'],
		['10.255.255.255', 'private'],
		['172.16.0.1', 'private'],
		['172.31.255.255', 'private'],
		['172.32.0.1', 'public'],
		['192.168.1.10', 'private'],
		['100.64.0.1', 'private'],
		['100.127.255.255', 'private'],
		['100.128.0.1', 'public'],
		['127.0.0.1', 'loopback'],
		['127.255.255.254', 'loopback'],
		['169.254.0.1', 'link_local'],
		['169.254.169.253', 'link_local'],
		['169.254.169.254', 'metadata'],
		['169.254.170.2', 'metadata'],
		['100.100.100.200', 'metadata'],
		['168.63.129.16', 'metadata'],
		['0.0.0.0', 'unspecified'],
		['0.1.2.3', 'unspecified'],
		['224.0.0.1', 'multicast'],
		['239.255.255.250', 'multicast'],
		['255.255.255.255', 'reserved'],
		['240.0.0.1', 'reserved'],
		['192.0.2.1', 'reserved'],
		['198.51.100.7', 'reserved'],
		['203.0.113.9', 'reserved'],
		['198.18.0.1', 'reserved'],
		// IPv6
		['2606:4700:4700::1111', 'public'],
		['2a00:1450:4001:82a::200e', 'public'],
		['::1', 'loopback'],
		['::', 'unspecified'],
		['fe80::1', 'link_local'],
		['fe80::1%eth0', 'link_local'],
		['febf:ffff::1', 'link_local'],
		['fc00::1', 'private'],
		['fd12:3456:789a::1', 'private'],
		['fd00:ec2::254', 'metadata'],
		['ff02::1', 'multicast'],
		['2001:db8::1', 'reserved'],
		['fec0::1', 'reserved'],
		['100::1', 'reserved'],
		['2002:7f00:1::', 'reserved'],
		['::7f00:1', 'reserved'],
		// IPv4 inside IPv6
		['::ffff:127.0.0.1', 'loopback'],
		['::ffff:7f00:1', 'loopback'],
		['::ffff:169.254.169.254', 'metadata'],
		['::ffff:10.1.2.3', 'private'],
		['::ffff:8.8.8.8', 'public'],
		['::ffff:0.0.0.0', 'unspecified'],
		['64:ff9b::8.8.8.8', 'public'],
		['64:ff9b::a9fe:a9fe', 'metadata'],
		['64:ff9b::7f00:1', 'loopback'],
		// URL-style brackets
		['[::1]', 'loopback'],
	])('%s is %s', (ip, expected) => {
		expect(classifyAddress(ip)).toBe(expected);
	});

	it.each(['', 'localhost', 'example.com', '1.2.3.4.5', '::g', '300.1.1.1'])('throws InputError for %j', (ip) => {
		expect(() => classifyAddress(ip)).toThrow(InputError);
	});
});

describe('isAllowedAddress', () => {
	it.each<[string, boolean, boolean]>([
		// ip, allowed without allowPrivate, allowed with allowPrivate
		['8.8.8.8', true, true],
		['2606:4700:4700::1111', true, true],
		['10.0.0.1', false, true],
		['172.16.5.4', false, true],
		['192.168.0.1', false, true],
		['100.64.1.1', false, true],
		['fd00::1', false, true],
		['127.0.0.1', false, true],
		['::1', false, true],
		['::ffff:127.0.0.1', false, true],
		['169.254.1.1', false, false],
		['fe80::1', false, false],
		['169.254.169.254', false, false],
		['fd00:ec2::254', false, false],
		['100.100.100.200', false, false],
		['0.0.0.0', false, false],
		['::', false, false],
		['224.0.0.251', false, false],
		['ff02::fb', false, false],
		['240.0.0.1', false, false],
		['2001:db8::1', false, false],
		['not an ip', false, false],
	])('%s: %s by default, %s with allowPrivate', (ip, closed, open) => {
		expect(isAllowedAddress(ip, { allowPrivate: false })).toBe(closed);
		expect(isAllowedAddress(ip, { allowPrivate: true })).toBe(open);
	});
});

describe('parseDestinationUrl', () => {
	it('accepts http and https URLs', () => {
		expect(parseDestinationUrl('https://n8n.example.com/webhook/abc').hostname).toBe('n8n.example.com');
		expect(parseDestinationUrl('http://192.168.1.20:5678/webhook/abc').port).toBe('5678');
		expect(parseDestinationUrl('http://[::1]:5678/x').hostname).toBe('[::1]');
	});

	it.each<[string, RegExp]>([
		['', /must not be empty/],
		['   ', /must not be empty/],
		['not a url', /not a valid absolute URL/],
		['/webhook/abc', /not a valid absolute URL/],
		['http://', /not a valid absolute URL/],
		['ftp://example.com/file', /http or https, not ftp/],
		['file:///etc/passwd', /http or https, not file/],
		['javascript:alert(1)', /http or https, not javascript/],
		['gopher://example.com:70/_x', /http or https, not gopher/],
		['https://user:pass@example.com/hook', /user name or password/],
		['https://user@example.com/hook', /user name or password/],
		['https://:secret@example.com/hook', /user name or password/],
		[`https://example.com/${'a'.repeat(2048)}`, /at most 2048 characters/],
	])('refuses %j', (text, message) => {
		expect(() => parseDestinationUrl(text)).toThrow(InputError);
		expect(() => parseDestinationUrl(text)).toThrow(message);
	});

	it('accepts a URL of exactly 2048 characters', () => {
		const base = 'https://example.com/';
		expect(() => parseDestinationUrl(base + 'a'.repeat(2048 - base.length))).not.toThrow();
	});
});

describe('checkDestination', () => {
	const answers: Record<string, string[]> = {
		'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
		'n8n.lan': ['192.168.1.20'],
		'local.example.com': ['127.0.0.1', '::1'],
		'imds.example.com': ['169.254.169.254'],
		'mixed.example.com': ['93.184.215.14', '169.254.10.10'],
		'mixed-private.example.com': ['93.184.215.14', '10.0.0.7'],
		'empty.example.com': [],
	};
	const resolved: string[] = [];
	const lookup = async (host: string): Promise<string[]> => {
		resolved.push(host);
		const found = answers[host];
		if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
		return found;
	};
	const check = (text: string, allowPrivate: boolean) => checkDestination(new URL(text), { allowPrivate, lookup });

	beforeEach(() => {
		resolved.length = 0;
	});

	it('allows a host whose every address is public', async () => {
		await expect(check('https://hooks.example.com/x', false)).resolves.toBeUndefined();
		expect(resolved).toEqual(['hooks.example.com']);
	});

	it('allows private and loopback destinations only when allowPrivate is on', async () => {
		await expect(check('http://n8n.lan:5678/webhook', false)).rejects.toThrow(
			'webhook destination n8n.lan is not allowed: its host name must resolve to public internet addresses only',
		);
		await expect(check('http://n8n.lan:5678/webhook', true)).resolves.toBeUndefined();
		await expect(check('http://local.example.com/', false)).rejects.toThrow(
			/^webhook destination local\.example\.com is not allowed/,
		);
		await expect(check('http://local.example.com/', true)).resolves.toBeUndefined();
	});

	it('checks IP literals without resolving them', async () => {
		await expect(check('http://127.0.0.1:5678/', false)).rejects.toThrow(/127\.0\.0\.1 is a loopback address/);
		await expect(check('http://127.0.0.1:5678/', true)).resolves.toBeUndefined();
		await expect(check('http://[::1]:5678/', false)).rejects.toThrow(/::1 is a loopback address/);
		await expect(check('http://[::ffff:a9fe:a9fe]/', true)).rejects.toThrow(/metadata address/);
		// The URL parser turns decimal and hex hosts into dotted quads before we see them.
		await expect(check('http://2130706433/', false)).rejects.toThrow(/127\.0\.0\.1 is a loopback address/);
		await expect(check('http://0xa9.0xfe.0xa9.0xfe/', true)).rejects.toThrow(
			/169\.254\.169\.254 is a metadata address/,
		);
		await expect(check('https://8.8.8.8/', false)).resolves.toBeUndefined();
		expect(resolved).toEqual([]);
	});

	it('always refuses the metadata address, by name or literally', async () => {
		for (const allowPrivate of [false, true]) {
			await expect(check('http://imds.example.com/latest/meta-data/', allowPrivate)).rejects.toThrow(
				allowPrivate
					? /imds\.example\.com \(169\.254\.169\.254\) is a metadata address, which is not allowed$/
					: /imds\.example\.com is not allowed/,
			);
			await expect(check('http://169.254.169.254/latest/meta-data/', allowPrivate)).rejects.toThrow(InputError);
		}
	});

	it('refuses a host if any one of its addresses is refused', async () => {
		for (const allowPrivate of [false, true]) {
			await expect(check('https://mixed.example.com/', allowPrivate)).rejects.toThrow(
				allowPrivate
					? /mixed\.example\.com \(169\.254\.10\.10\) is a link-local address/
					: /mixed\.example\.com is not allowed/,
			);
		}
		await expect(check('https://mixed-private.example.com/', false)).rejects.toThrow(
			/mixed-private\.example\.com is not allowed/,
		);
		await expect(check('https://mixed-private.example.com/', true)).resolves.toBeUndefined();
	});

	it('refuses a host that does not resolve', async () => {
		await expect(check('https://nowhere.example.com/', true)).rejects.toThrow(
			new InputError('webhook destination nowhere.example.com could not be resolved (ENOTFOUND)'),
		);
		await expect(check('https://empty.example.com/', true)).rejects.toThrow(/resolved to no address/);
	});

	it('uses the system resolver by default', async () => {
		await expect(checkDestination(new URL('http://localhost:1/'), { allowPrivate: false })).rejects.toThrow(
			/localhost is not allowed/,
		);
		await expect(checkDestination(new URL('http://localhost:1/'), { allowPrivate: true })).resolves.toBeUndefined();
	});
});

describe('guardedLookup with a real http.Agent', () => {
	let server: http.Server;
	let port: number;
	let hits = 0;

	beforeAll(async () => {
		server = http.createServer((_req, res) => {
			hits++;
			res.end('reached');
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	afterAll(async () => {
		await new Promise<void>((resolve) => server.close(() => resolve()));
	});

	/** GET http://localhost:<port>/ through an agent using guardedLookup; IPv4 so the 127.0.0.1 server is found everywhere. */
	function get(allowPrivate: boolean): Promise<string> {
		const agent = new http.Agent({ lookup: guardedLookup({ allowPrivate }) });
		return new Promise<string>((resolve, reject) => {
			const req = http.get({ host: 'localhost', port, path: '/', family: 4, agent }, (res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (body += chunk));
				res.on('end', () => resolve(body));
				res.on('error', reject);
			});
			req.on('error', reject);
		}).finally(() => agent.destroy());
	}

	it('connects to a loopback server when private destinations are allowed', async () => {
		await expect(get(true)).resolves.toBe('reached');
	});

	it('refuses the connection with EDESTINATIONREFUSED when they are not', async () => {
		const before = hits;
		const error = await get(false).then(
			() => undefined,
			(reason: NodeJS.ErrnoException) => reason,
		);
		expect(error).toBeDefined();
		expect(error?.code).toBe(DESTINATION_REFUSED);
		expect(error?.code).toBe('EDESTINATIONREFUSED');
		expect(error?.message).toMatch(/localhost is not allowed/);
		expect(hits).toBe(before);
	});

	it('hands back every address when asked for all of them', async () => {
		const lookup = guardedLookup({ allowPrivate: true });
		const all = await new Promise((resolve, reject) =>
			lookup('localhost', { all: true, family: 4 }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
		);
		expect(all).toEqual([{ address: '127.0.0.1', family: 4 }]);
		const single = await new Promise((resolve, reject) =>
			lookup('localhost', { family: 4 }, (error, address, family) =>
				error ? reject(error) : resolve([address, family]),
			),
		);
		expect(single).toEqual(['127.0.0.1', 4]);
	});
});
