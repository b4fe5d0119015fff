import { browserSuite, newPage, overflowsSideways, screenshot, signIn } from './support/harness';

describe('accounts in a real Chromium', () => {
	const suite = browserSuite();

	it('lists the account, refuses a bad time zone on the form, then saves plan, limit, module and time zone', async () => {
		const { page, problems } = await newPage(suite.browser);
		await signIn(page, suite.gw, '/accounts');
		await page.getByRole('row', { name: /Acme Clinic.*Starter/ }).waitFor();
		await screenshot(page, 'accounts');
		await Promise.all([page.waitForURL(/\/accounts\/\d+$/), page.getByRole('link', { name: 'Acme Clinic' }).click()]);

		await page.fill('#time_zone', 'Mars/Olympus');
		await page.getByRole('button', { name: 'Save' }).click();
		await page.getByRole('alert').getByText('time zone "Mars/Olympus" is not an IANA time zone').waitFor();
		expect(await page.inputValue('#time_zone')).toBe('Mars/Olympus');
		await screenshot(page, 'account-edit-error');

		await page.fill('#time_zone', 'Asia/Riyadh');
		await page.selectOption('#plan', 'growth');
		await page.fill('#daily_limit', '300');
		await page.selectOption('#threecx', 'off');
		await Promise.all([page.waitForURL(/\/accounts\/\d+$/), page.getByRole('button', { name: 'Save' }).click()]);
		await page.getByText('Saved Acme Clinic.').waitFor();
		expect(suite.gw.gateway.accounts.get(suite.gw.accountId)).toMatchObject({
			timeZone: 'Asia/Riyadh',
			limits: { daily: 300, monthly: 10_000 },
			modules: { threecx: false },
		});
		expect(problems).toEqual([]);
	});

	it('the edit form fits a phone', async () => {
		const { page, problems } = await newPage(suite.browser, { phone: true });
		await signIn(page, suite.gw, `/accounts/${suite.gw.accountId}`);
		await page.locator('#time_zone').waitFor();
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'account-edit-phone');
		expect(problems).toEqual([]);
	});
});
