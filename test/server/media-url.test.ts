import { createTestGateway, PHONE, sendBody, type TestGateway } from '../helpers/gateway';

/**
 * Media URLs are held to the destination rules customer webhooks use (server/src/messaging/media-url.ts):
 * the provider downloads them from its own network and sends the bytes to the recipient.
 */
let t: TestGateway;
afterEach(() => t?.close());

const image = (media: string) =>
	sendBody({ message: 'Your receipt', media_type: 'image', mime_type: 'image/png', media });

async function sendMedia(media: string) {
	const sent: string[] = [];
	t.sandbox.onSend((send) => sent.push(send.to));
	const res = await t.send(image(media));
	return { status: res.status, error: res.body.error, media: res.body.details?.fields?.media, reached: sent.length };
}

describe('media URLs that reach internal hosts are refused before the provider', () => {
	it('cloud metadata, link-local and reserved addresses are refused even with private destinations allowed', async () => {
		t = createTestGateway({ account: { instanceRatePerMinute: 1000, recipientRatePerMinute: 1000 } });
		const refused = [
			['https://169.254.169.254/latest/meta-data/iam/', 'metadata'],
			// The same address in other encodings: hexadecimal, one decimal number, octal, IPv4-mapped IPv6, a trailing dot.
			['https://0xA9FEA9FE/latest/meta-data/', 'metadata'],
			['https://2852039166/latest/meta-data/', 'metadata'],
			['https://0251.0376.0251.0376/latest/', 'metadata'],
			['https://[::ffff:169.254.169.254]/latest/', 'metadata'],
			['https://169.254.169.254./latest/', 'metadata'],
			['https://169.254.10.10/file.png', 'link-local'],
			['https://[fe80::1]/file.png', 'link-local'],
			['https://240.0.0.1/file.png', 'reserved'],
			['https://0.0.0.0/file.png', 'unspecified'],
		];
		const answers = [];
		for (const [url] of refused) answers.push(await sendMedia(url));
		expect(answers).toEqual(
			refused.map(([, kind]) => ({
				status: 422,
				error: 'validation_error',
				media: expect.stringMatching(new RegExp(`^media URL .* is a ${kind} address, which is not allowed`)),
				reached: 0,
			})),
		);
		// Loopback and private addresses are the operator's to allow (the default, as for webhooks).
		expect(await sendMedia('https://127.0.0.1:6379/')).toMatchObject({ status: 200, reached: 1 });
	});

	it('with private destinations blocked, loopback, private and names that resolve to them are refused too', async () => {
		t = createTestGateway({
			account: { instanceRatePerMinute: 1000, recipientRatePerMinute: 1000 },
			media: { allowPrivate: false },
		});
		for (const url of [
			'https://127.0.0.1:6379/',
			'https://10.1.2.3/a.png',
			'https://[::1]/a.png',
			'https://[fd00::5]/a.png',
		]) {
			expect(await sendMedia(url)).toMatchObject({ status: 422, error: 'validation_error', reached: 0 });
		}
		// A name is resolved at send time, and every address it has is judged; refusing a name never says what it resolved to.
		expect(await sendMedia('https://localhost/a.png')).toEqual({
			status: 422,
			error: 'validation_error',
			media: 'media URL localhost is not allowed: its host name must resolve to public internet addresses only',
			reached: 0,
		});
		expect(await sendMedia('https://no-such-host.invalid/a.png')).toMatchObject({ status: 422, reached: 0 });
		expect(await sendMedia('https://93.184.215.14/receipt.png')).toMatchObject({ status: 200, reached: 1 });
	});

	it('a name that resolves to a metadata address is refused; one with a public address is sent', async () => {
		const answers: Record<string, string[]> = {
			'files.attacker.example': ['93.184.215.14', '169.254.169.254'],
			'cdn.shop.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
		};
		t = createTestGateway({
			account: { instanceRatePerMinute: 1000, recipientRatePerMinute: 1000 },
			media: { lookup: async (host) => answers[host] ?? [] },
		});
		expect(await sendMedia('https://files.attacker.example/a.png')).toMatchObject({
			status: 422,
			media: 'media URL files.attacker.example (169.254.169.254) is a metadata address, which is not allowed',
			reached: 0,
		});
		expect(await sendMedia('https://cdn.shop.example/a.png')).toMatchObject({ status: 200, reached: 1 });
	});

	it('a refused media URL is in the message log as a blocked attempt', async () => {
		t = createTestGateway();
		await sendMedia('https://169.254.169.254/latest/meta-data/');
		expect(t.gateway.db.prepare('SELECT status, error_code, phone FROM message_log').all()).toEqual([
			{ status: 'blocked', error_code: 'validation_error', phone: PHONE },
		]);
	});
});
