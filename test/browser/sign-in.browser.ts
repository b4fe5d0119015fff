import { ADMIN_TOKEN, browserSuite, newPage, overflowsSideways, screenshot } from './support/harness';

describe('sign-in in a real Chromium', () => {
	const suite = browserSuite();

	it('a wrong token stays on the sign-in page with a reason; the right one signs in with an HttpOnly, SameSite=Strict cookie', async () => {
		const { page, problems } = await newPage(suite.browser);
		await page.goto(`${suite.gw.url}/login?next=%2Flogout-target`);
		await page.fill('#token', 'wrong');
		await page.click('button[type=submit]');
		await page.getByRole('alert').getByText('That is not the operator token.').waitFor();
		await screenshot(page, 'sign-in-wrong-token');

		await page.fill('#token', ADMIN_TOKEN);
		await Promise.all([page.waitForURL((url) => url.pathname === '/logout-target'), page.click('button[type=submit]')]);
		const cookies = await page.context().cookies();
		expect(cookies.map(({ name, httpOnly, sameSite }) => ({ name, httpOnly, sameSite }))).toEqual([
			{ name: 'wg_dashboard', httpOnly: true, sameSite: 'Strict' },
		]);
		expect(await page.evaluate(() => document.cookie)).toBe('');
		expect(problems).toEqual([]);
	});

	it('the sign-in page fits a phone and loads its own stylesheet under the CSP', async () => {
		const { page, problems } = await newPage(suite.browser, { phone: true });
		await page.goto(`${suite.gw.url}/login`);
		expect(
			await page.evaluate(() => getComputedStyle(document.querySelector('.button.primary')!).backgroundColor),
		).toBe('rgb(18, 140, 74)');
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'sign-in-phone');
		expect(problems).toEqual([]);
	});
});
