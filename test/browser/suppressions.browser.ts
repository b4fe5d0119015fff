import { ADMIN_TOKEN, browserSuite, newPage, overflowsSideways, screenshot, signIn } from './support/harness';

describe('inbound logs and suppressed recipients in a real Chromium', () => {
	const suite = browserSuite();

	const inbound = async (from: string, text: string) => {
		const res = await fetch(`${suite.gw.url}/sandbox/inbound`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
			body: JSON.stringify({ instance: 'demo-support-line', from, text }),
		});
		expect(res.status).toBe(200);
	};

	it('an inbound STOP shows in the inbound log and among the suppressed, with its keyword', async () => {
		await inbound('+966501234567', 'Hello, is my order ready?');
		await inbound('+966501234568', 'STOP');
		const { page, problems } = await newPage(suite.browser);
		await signIn(page, suite.gw, '/inbound-logs');
		expect(await page.locator('tbody tr').count()).toBe(2);
		await page.fill('#f-phone', '+966501234568');
		await Promise.all([page.waitForURL(/phone=/), page.getByRole('button', { name: 'Search' }).click()]);
		await page.getByRole('row', { name: /STOP.*opt-out/ }).waitFor();
		expect(await page.locator('tbody tr').count()).toBe(1);
		await screenshot(page, 'inbound-logs');

		await page
			.getByRole('navigation', { name: 'Dashboard sections' })
			.getByRole('link', { name: 'Suppressed' })
			.click();
		await page.getByRole('row', { name: /\+966501234568.*opt-out keyword.*STOP.*Demo Support Line/ }).waitFor();
		expect(problems).toEqual([]);
	});

	it('adds a number as the API reads it and removes it after a confirmation', async () => {
		const { page, problems } = await newPage(suite.browser);
		await signIn(page, suite.gw, '/suppressed-recipients');
		await page.fill('#add-phone', '00966 50 123 4599');
		await page.fill('#add-reason', 'asked by phone');
		await Promise.all([
			page.waitForURL(/suppressed-recipients/),
			page.getByRole('button', { name: 'Suppress' }).click(),
		]);
		await page.getByText('+966501234599 is suppressed.').waitFor();
		const row = page.getByRole('row', { name: /\+966501234599.*operator.*asked by phone/ });
		await row.waitFor();
		await screenshot(page, 'suppressed-recipients');

		page.once('dialog', (dialog) => void dialog.accept());
		await Promise.all([page.waitForURL(/suppressed-recipients/), row.getByRole('button', { name: 'Remove' }).click()]);
		await page.getByText('+966501234599 may be messaged again.').waitFor();
		expect(suite.gw.gateway.suppressions.find(suite.gw.accountId, '+966501234599')).toBeUndefined();
		expect(problems).toEqual([]);
	});

	it('both pages fit a phone', async () => {
		const { page, problems } = await newPage(suite.browser, { phone: true });
		await signIn(page, suite.gw, '/inbound-logs');
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'inbound-logs-phone');
		await page.goto(`${suite.gw.url}/suppressed-recipients`);
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'suppressed-recipients-phone');
		expect(problems).toEqual([]);
	});
});
