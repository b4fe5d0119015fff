import { ADMIN_TOKEN, signIn, type DashboardClient, signedInSuite } from '../helpers/dashboard';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

describe('dashboard message log', () => {
	const suite = signedInSuite();

	const logIds = (text: string) => [...text.matchAll(/>#(\d+)<\/a>/g)].map((match) => Number(match[1]));

	it('filters by status, error code, purpose, phone and date, newest first', async () => {
		await suite.gw.send(sendBody({ message: 'Order <b>1</b> shipped' }));
		await suite.gw.send(sendBody({ phone: '+966501234568', message_purpose: 'support', message: 'Ticket 7 answered' }));
		await suite.gw.send(sendBody({ message_purpose: 'marketing' }));
		suite.gw.clock.advance(2 * 3_600_000);
		await suite.gw.send(sendBody({ message: 'Order 2 shipped' }));

		expect(logIds((await suite.client.get('/messages')).text)).toEqual([4, 3, 2, 1]);
		expect(logIds((await suite.client.get('/messages?status=blocked')).text)).toEqual([3]);
		expect(logIds((await suite.client.get('/messages?code=message_purpose_not_allowed')).text)).toEqual([3]);
		expect(logIds((await suite.client.get('/messages?purpose=support')).text)).toEqual([2]);
		expect(logIds((await suite.client.get('/messages?phone=%2B966%2050%20123%204568')).text)).toEqual([2]);
		expect(logIds((await suite.client.get('/messages?from=2026-05-08&to=2026-05-08')).text)).toEqual([4, 3, 2, 1]);
		expect(logIds((await suite.client.get('/messages?from=2026-05-09')).text)).toEqual([]);
		expect((await suite.client.get('/messages?from=2026-05-09')).text).toContain('No message matches.');
		expect((await suite.client.get('/messages?from=yesterday')).status).toBe(422);
		expect((await suite.client.get('/messages?status=lost')).status).toBe(422);
	});

	it('pages 50 at a time, keeping the filters', async () => {
		for (let i = 0; i < 55; i += 1) await suite.gw.send(sendBody({ message_purpose: 'marketing' }));
		const first = await suite.client.get('/messages?status=blocked');
		expect(logIds(first.text)).toHaveLength(50);
		const next = /href="(\/messages\?[^"]*before=6[^"]*)"/.exec(first.text)?.[1];
		expect(next?.replace(/&amp;/g, '&')).toBe('/messages?status=blocked&before=6');
		const second = await suite.client.get('/messages?status=blocked&before=6');
		expect(logIds(second.text)).toEqual([5, 4, 3, 2, 1]);
		expect(second.text).not.toContain('Older messages');
	});

	it("shows one message: outcome, text (escaped), the provider's delivered and read reports, and a refusal's code", async () => {
		const sent = await suite.gw.send(sendBody({ message: 'Order <b>1</b> shipped' }));
		const providerId = sent.body.message_id as string;
		for (const status of ['delivered', 'read']) {
			suite.gw.clock.advance(60_000);
			await suite.gw.gateway.inbound.receive(suite.gw.instanceId, [
				{ kind: 'status', providerMessageId: providerId, status, at: suite.gw.clock.now() },
			]);
			suite.gw.gateway.flushWrites();
		}
		const page = await suite.client.get(`/messages/${sent.body.log_id}`);
		expect(page.status).toBe(200);
		expect(page.text).toContain('Order &lt;b&gt;1&lt;/b&gt; shipped');
		expect(page.text).toMatch(/badge ok">sent[\s\S]*badge ok">delivered[\s\S]*badge ok">read/);
		expect(page.text).toContain(providerId);

		expect((await suite.gw.send(sendBody({ message_purpose: 'marketing' }))).status).toBe(422);
		const refusal = await suite.client.get('/messages/2');
		expect(refusal.text).toMatch(/<code>message_purpose_not_allowed<\/code> \(HTTP 422\)/);
		expect((await suite.client.get('/messages/999')).status).toBe(404);
		expect((await suite.client.get('/messages/1?account=7')).status).toBe(404);
	});
});

describe('dashboard message log on a long log', () => {
	let gw: TestGateway;
	let client: DashboardClient;
	beforeAll(async () => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN });
		client = await signIn(gw);
		const insert = gw.gateway.db.prepare(
			`INSERT INTO message_log (account_id, account_seq, phone, status, error_code, http_status, created_at, updated_at)
       VALUES (?, ?, '+966501234567', ?, ?, 200, ?, ?)`,
		);
		const now = gw.clock.now();
		gw.gateway.db.transaction(() => {
			for (let seq = 1; seq <= 10_050; seq += 1)
				insert.run(
					gw.accountId,
					seq,
					seq === 3 ? 'failed' : 'sent',
					seq === 3 ? 'provider_error' : null,
					now - 10_050 + seq,
					now,
				);
		})();
	});
	afterAll(() => gw.close());

	it('a rare status stops after 10,000 entries, says so, and searches older from there', async () => {
		const first = await client.get('/messages?status=failed');
		expect(first.status).toBe(200);
		expect(first.text).toContain('No message matches.');
		expect(first.text).toContain('The search stopped after 10,000 log entries (down to #51)');
		const older = /href="([^"]*)">Search older/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
		expect(older).toBe('/messages?status=failed&before=51');
		const second = await client.get(older as string);
		expect([...second.text.matchAll(/>#(\d+)<\/a>/g)].map((match) => Number(match[1]))).toEqual([3]);
		expect(second.text).not.toContain('Search older');
	});
});
