import type { Browser } from 'playwright-core';
import {
	launchBrowser,
	newPage,
	overflowsSideways,
	screenshot,
	signIn,
	startGateway,
	type BrowserGateway,
} from './support/harness';

describe('the message log in a real Chromium', () => {
	let gw: BrowserGateway;
	let browser: Browser;
	beforeAll(async () => {
		gw = await startGateway();
		browser = await launchBrowser();
		const send = (overrides: Record<string, unknown>) =>
			gw.send({
				instance_id: 'demo-support-line',
				phone: '+966501234567',
				message: 'Your order #2041 has shipped.',
				message_purpose: 'transactional',
				...overrides,
			});
		await send({});
		await send({ phone: '+966501234568', message_purpose: 'support', message: 'Your ticket <7> was answered' });
		await send({ message_purpose: 'marketing' });
	});
	afterAll(async () => {
		await browser?.close();
		await gw?.close();
	});

	it("filters by purpose with the form and opens one message's history", async () => {
		const { page, problems } = await newPage(browser);
		await signIn(page, gw, '/messages');
		expect(await page.locator('tbody tr').count()).toBe(3);
		await screenshot(page, 'messages');
		await page.selectOption('#f-purpose', 'support');
		await Promise.all([page.waitForURL(/purpose=support/), page.getByRole('button', { name: 'Filter' }).click()]);
		expect(await page.locator('tbody tr').count()).toBe(1);
		await Promise.all([page.waitForURL(/\/messages\/2/), page.getByRole('link', { name: '#2' }).click()]);
		await page.getByText('Your ticket <7> was answered').waitFor();
		await page.getByRole('heading', { name: 'History' }).waitFor();
		await screenshot(page, 'message-detail');

		await page.goto(`${gw.url}/messages/3`);
		await page.getByText('message_purpose_not_allowed').first().waitFor();
		expect(problems).toEqual([]);
	});

	it('fits a phone', async () => {
		const { page, problems } = await newPage(browser, { phone: true });
		await signIn(page, gw, '/messages');
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'messages-phone');
		await page.goto(`${gw.url}/messages/2`);
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'message-detail-phone');
		expect(problems).toEqual([]);
	});
});
