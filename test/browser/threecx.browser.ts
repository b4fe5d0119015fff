import { browserSuite, newPage, overflowsSideways, screenshot, signIn } from './support/harness';

describe('the 3CX page in a real Chromium', () => {
	const suite = browserSuite();

	const page3cx = () => `/integrations/3cx?account=${suite.gw.accountId}`;

	it('creates an integration (secret shown once), previews a template live, saves it, and sends the test event', async () => {
		const { page, problems } = await newPage(suite.browser);
		await signIn(page, suite.gw, page3cx());
		await page.getByText('No 3CX integration for Acme Clinic yet.').waitFor();
		await page.fill('#new-business', 'Acme Clinic');
		await Promise.all([
			page.waitForURL((url) => url.pathname === '/integrations/3cx'),
			page.click('button:has-text("Create integration")'),
		]);
		expect(await page.locator('#shown-secret').textContent()).toMatch(/^tcx_/);
		await screenshot(page, 'threecx-created');

		const [integration] = suite.gw.gateway.threecx.integrations.list(suite.gw.accountId);
		const missed = page.locator(`#i${integration.id}-missed_call`);
		const preview = page.locator(`[data-preview-of="i${integration.id}-missed_call"]`);
		await missed.fill(
			'Hi from {{business_name}}: we missed your call at {{call_time}} (ext {{agent_extension}}) {{typo}}',
		);
		await preview.filter({ hasText: 'Hi from Acme Clinic: we missed your call at 20' }).waitFor();
		expect(await preview.textContent()).toContain('(ext 101) {{typo}}\n(unknown variables: typo)');
		await page.fill(`#i${integration.id}-business`, 'Acme Dental');
		await preview.filter({ hasText: 'Hi from Acme Dental' }).waitFor();
		await missed.fill('Hi from {{business_name}}, sorry we missed your call.');
		await preview.filter({ hasText: /^Hi from Acme Dental, sorry we missed your call\.$/ }).waitFor();
		await screenshot(page, 'threecx-template-preview');

		await Promise.all([
			page.waitForURL((url) => url.pathname === '/integrations/3cx'),
			page.click('button:has-text("Save settings")'),
		]);
		await page.getByRole('status').getByText('Saved 3CX.').waitFor();
		expect(suite.gw.gateway.threecx.integrations.get(integration.id)).toMatchObject({ businessName: 'Acme Dental' });
		expect(suite.gw.gateway.threecx.integrations.get(integration.id).templates.missed_call.text).toBe(
			'Hi from {{business_name}}, sorry we missed your call.',
		);

		await Promise.all([
			page.waitForURL((url) => url.pathname === '/integrations/3cx'),
			page.click('button:has-text("Send test event")'),
		]);
		await page.getByRole('status').getByText('Test event: HTTP 200').waitFor();
		await page
			.locator('td', { hasText: /^received$/ })
			.first()
			.waitFor();
		await screenshot(page, 'threecx-test-event');

		page.once('dialog', (dialog) => void dialog.accept());
		await Promise.all([
			page.waitForURL((url) => url.pathname === '/integrations/3cx'),
			page.click('button:has-text("Rotate secret")'),
		]);
		expect(await page.locator('#shown-secret').textContent()).toMatch(/^tcx_/);
		expect(problems).toEqual([]);
	});

	it('fits a phone', async () => {
		const { page, problems } = await newPage(suite.browser, { phone: true });
		await signIn(page, suite.gw, page3cx());
		await page.getByRole('button', { name: 'Send test event' }).first().waitFor();
		await screenshot(page, 'threecx-phone');
		expect(await overflowsSideways(page)).toBe(false);
		expect(problems).toEqual([]);
	});
});
