import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

describe('dashboard overview', () => {
	let gw: TestGateway;
	let client: DashboardClient;
	beforeEach(async () => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN, account: { dailyLimit: 3 } });
		client = await signIn(gw);
	});
	afterEach(() => gw.close());

	it('shows today and this month against the limits, the same numbers as /api/me', async () => {
		for (const phone of ['+966501234567', '+966501234568'])
			expect((await gw.send(sendBody({ phone }))).status).toBe(200);
		const me = await gw.http.get('/api/me').set('Authorization', `Bearer ${gw.apiKey}`);
		expect(me.body.usage.today).toBe(2);

		const page = await client.get('/dashboard');
		expect(page.status).toBe(200);
		expect(page.text).toContain('aria-label="Today: 2 of 3"');
		expect(page.text).toContain(`aria-label="This month: 2 of ${me.body.limits.monthly}"`);
		expect(page.text).toContain('custom limits');
	});

	it('charts the last 7 local days by outcome and error code, with a table of the same numbers', async () => {
		await gw.send(sendBody());
		gw.clock.advance(86_400_000);
		await gw.send(sendBody({ phone: '+966501234568' }));
		await gw.send(sendBody({ message_purpose: 'marketing' }));
		client = await signIn(gw); // a day later the first session has expired
		const page = await client.get('/dashboard');
		expect(page.text).toContain('role="img"');
		expect(page.text).toMatch(/Sends per day over the last 7 days: 2 sent, 1 message_purpose_not_allowed/);
		// The table: 2026-05-08 one sent; 2026-05-09 one sent, one refused.
		expect(page.text).toMatch(
			/<th scope="row" data-label="Day"><span class="cell">2026-05-08<\/span><\/th><td data-label="sent" class="num"><span class="cell">1<\/span><\/td><td data-label="message_purpose_not_allowed" class="num"><span class="cell">0<\/span><\/td>/,
		);
		expect(page.text).toMatch(
			/<th scope="row" data-label="Day"><span class="cell">2026-05-09<\/span><\/th><td data-label="sent" class="num"><span class="cell">1<\/span><\/td><td data-label="message_purpose_not_allowed" class="num"><span class="cell">1<\/span><\/td>/,
		);
		expect(page.text).toMatch(/<th scope="row" data-label="Day"><span class="cell">2026-05-03<\/span><\/th>/);
		expect(page.text).not.toMatch(/<th scope="row" data-label="Day"><span class="cell">2026-05-02<\/span><\/th>/);
	});

	it("shows the instances' connection state and the webhook delivery figures of /metrics", async () => {
		gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'shop-line',
			displayName: 'Shop <b>line</b>',
			provider: 'sandbox',
			connectionState: 'disconnected',
		});
		const page = await client.get('/dashboard');
		expect(page.text).toMatch(/Demo Support Line[\s\S]*<span class="badge ok">connected<\/span>/);
		expect(page.text).toMatch(/Shop &lt;b&gt;line&lt;\/b&gt;[\s\S]*<span class="badge bad">disconnected<\/span>/);
		expect(page.text).toMatch(/Delivery success<\/h3><p class="figure">–/);
	});

	it('shows webhook delivery success from the counters /metrics exports', async () => {
		for (const result of ['succeeded', 'succeeded', 'succeeded', 'retry_scheduled'] as const)
			gw.gateway.metrics.observeDeliveryAttempt(result);
		const metrics = await gw.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
		expect(metrics.text).toContain('whatsapp_gateway_delivery_attempts_total{result="succeeded"} 3');
		const page = await client.get('/dashboard');
		expect(page.text).toMatch(/Delivery success<\/h3><p class="figure">75%/);
		expect(page.text).toContain('3 of 4 attempts succeeded; 1 retried, 0 failed for good, 0 receivers gone (410)');
	});

	it('a signed-out browser goes to the sign-in page; an unknown account is a 404 page', async () => {
		const signedOut = await gw.http.get('/dashboard?account=1');
		expect(signedOut.status).toBe(302);
		expect(signedOut.headers.location).toBe('/login?next=%2Fdashboard%3Faccount%3D1');
		const unknown = await client.get('/dashboard?account=99');
		expect(unknown.status).toBe(404);
		expect(unknown.text).toContain('There is no account 99.');
	});
});
