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

describe('overview and sign-out in a real Chromium', () => {
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
		for (let i = 0; i < 3; i += 1) await send({ phone: `+96650123456${i}`, message: `Order ${i} shipped` });
		await send({ message_purpose: 'marketing' });
		await send({ phone: 'not a phone' });
	});
	afterAll(async () => {
		await browser?.close();
		await gw?.close();
	});

	it('shows usage, the sends chart with its legend and table, deliveries and instances; fits a phone', async () => {
		for (const phone of [false, true]) {
			const { page, problems } = await newPage(browser, { phone });
			await signIn(page, gw);
			await page.getByRole('heading', { name: 'Overview: Acme Clinic' }).waitFor();
			expect(await page.locator('meter.usage').first().getAttribute('value')).toBe('3');
			const chart = page.getByRole('img', {
				name: /Sends per day over the last 7 days: 3 sent, 1 message_purpose_not_allowed, 1 validation_error/,
			});
			await chart.waitFor();
			expect(await page.locator('svg.chart rect').count()).toBe(3);
			await page.getByText('The numbers as a table').click();
			await page.getByRole('rowheader').last().waitFor();
			expect(await page.locator('.legend li').allTextContents()).toEqual(
				['sent (3)', 'message_purpose_not_allowed (1)', 'validation_error (1)'].map((text) => ` ${text}`),
			);
			await page.getByText('Demo Support Line').waitFor();
			expect(await overflowsSideways(page)).toBe(false);
			await screenshot(page, phone ? 'overview-phone' : 'overview');
			expect(problems).toEqual([]);
		}
	});

	it('signs out from the layout: back on /login, and /dashboard then asks to sign in again', async () => {
		const { page, problems } = await newPage(browser);
		await signIn(page, gw);
		await Promise.all([
			page.waitForURL((url) => url.pathname === '/login'),
			page.getByRole('button', { name: 'Sign out' }).click(),
		]);
		await page.goto(`${gw.url}/dashboard`);
		expect(new URL(page.url()).pathname).toBe('/login');
		await page.locator('#token').waitFor();
		expect(problems).toEqual([]);
	});
});
