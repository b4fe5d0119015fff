import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { createTestGateway, PHONE, sendBody, type TestGateway } from '../helpers/gateway';

describe('dashboard suppressed recipients', () => {
	let gw: TestGateway;
	let client: DashboardClient;
	beforeEach(async () => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN, account: { defaultCountry: 'SA', timeZone: 'Asia/Riyadh' } });
		client = await signIn(gw);
	});
	afterEach(() => gw.close());

	const inbound = (from: string, text: string) =>
		gw.http
			.post('/sandbox/inbound')
			.set('Authorization', `Bearer ${ADMIN_TOKEN}`)
			.send({ instance: 'demo-support-line', from, text });

	it('adds a number as the API reads it (national form, default country), and sends to it are refused', async () => {
		const added = await client.post('/suppressed-recipients?account=1', {
			phone: '050 123 4567',
			reason: 'asked <by phone>',
		});
		expect(added.status).toBe(302);
		expect(gw.gateway.suppressions.find(gw.accountId, PHONE)).toMatchObject({
			source: 'manual',
			reason: 'asked <by phone>',
		});
		const page = await client.get(added.headers.location);
		expect(page.text).toContain(`${PHONE} is suppressed.`);
		expect(page.text).toMatch(/badge">operator<\/span> asked &lt;by phone&gt;/);
		expect((await gw.send(sendBody())).body.error).toBe('recipient_suppressed');

		const bad = await client.post('/suppressed-recipients?account=1', { phone: 'call me', reason: '' });
		expect((await client.get(bad.headers.location)).text).toContain(
			'Not suppressed: &quot;call me&quot; is not a valid phone number.',
		);
	});

	it('shows an opt-out keyword with its text and time, searches by digits, and removes (after which sends pass)', async () => {
		expect((await inbound('+966501234568', 'STOP')).status).toBe(200);
		gw.gateway.suppressions.add(gw.accountId, PHONE, 'complaint', 'manual');
		const page = await client.get('/suppressed-recipients');
		expect(page.text).toMatch(
			/\+966501234568<\/span><\/td><td data-label="Came from"><span class="cell"><span class="badge warn">opt-out keyword<\/span>\s*<q>STOP<\/q> to Demo Support Line, <time[^>]*>2026-05-08 13:00<\/time>/,
		);

		const search = await client.get('/suppressed-recipients?phone=4568');
		expect(search.text).toContain('+966501234568');
		expect(search.text).not.toContain(`>${PHONE}<`);
		expect((await client.get('/suppressed-recipients?phone=999')).text).toContain('No suppressed number matches.');

		const removed = await client.post('/suppressed-recipients/remove?account=1', { phone: PHONE });
		expect(removed.status).toBe(302);
		expect(gw.gateway.suppressions.find(gw.accountId, PHONE)).toBeUndefined();
		expect((await gw.send(sendBody())).status).toBe(200);
	});

	it('refuses every action without the CSRF token, and an unknown account', async () => {
		gw.gateway.suppressions.add(gw.accountId, PHONE, 'complaint', 'manual');
		for (const path of ['/suppressed-recipients', '/suppressed-recipients/remove']) {
			const res = await client.post(path, { phone: '+966501234568', _csrf: 'forged' });
			expect(res.status).toBe(403);
		}
		expect(gw.gateway.suppressions.list(gw.accountId)).toHaveLength(1);
		expect((await client.get('/suppressed-recipients?account=5')).status).toBe(404);
	});
});
