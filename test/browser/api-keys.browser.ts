import { browserSuite, newPage, overflowsSideways, screenshot, signIn } from './support/harness';

describe('API keys in a real Chromium', () => {
	const suite = browserSuite();

	const me = (key: string) => fetch(`${suite.gw.url}/api/me`, { headers: { Authorization: `Bearer ${key}` } });

	it('creates a key shown once with a working Copy button, then revokes it after a confirmation', async () => {
		const { page, problems } = await newPage(suite.browser);
		await signIn(page, suite.gw, '/api-keys');
		await page.fill('#key-name', 'n8n production');
		await Promise.all([page.waitForURL(/\/api-keys/), page.getByRole('button', { name: 'Create key' }).click()]);
		const key = (await page.locator('#shown-secret').textContent())?.trim() ?? '';
		expect(key.length).toBeGreaterThan(20);
		await page.getByRole('button', { name: 'Copy' }).click();
		await page.getByRole('button', { name: 'Copied' }).waitFor();
		expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
		expect((await me(key)).status).toBe(200);
		await screenshot(page, 'api-keys-created');

		await page.reload();
		expect(await page.locator('#shown-secret').count()).toBe(0);

		page.once('dialog', (dialog) => void dialog.accept());
		const row = page.getByRole('row', { name: /n8n production/ });
		await Promise.all([page.waitForURL(/\/api-keys/), row.getByRole('button', { name: 'Revoke' }).click()]);
		await page.getByText('Revoked the key n8n production').waitFor();
		await row.getByText('revoked').waitFor();
		const refused = await me(key);
		expect(refused.status).toBe(401);
		expect(((await refused.json()) as { error: string }).error).toBe('revoked_api_key');
		expect(problems).toEqual([]);
	});

	it('keeps the key when the confirmation is dismissed; fits a phone', async () => {
		const { page, problems } = await newPage(suite.browser, { phone: true });
		await signIn(page, suite.gw, '/api-keys');
		page.once('dialog', (dialog) => void dialog.dismiss());
		await page.getByRole('row', { name: /crm/ }).getByRole('button', { name: 'Revoke' }).click();
		await page.getByRole('row', { name: /crm/ }).getByRole('button', { name: 'Revoke' }).waitFor();
		expect((await me(suite.gw.apiKey)).status).toBe(200);
		expect(await overflowsSideways(page)).toBe(false);
		await screenshot(page, 'api-keys-phone');
		expect(problems).toEqual([]);
	});
});
