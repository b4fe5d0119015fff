import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { EvolutionApiFake } from '../fakes/evolution-api';
import {
	launchBrowser,
	newPage,
	overflowsSideways,
	screenshot,
	signIn,
	startGateway,
	type BrowserGateway,
} from './support/harness';

const PHONE = '+966501234567';

/** A receiver that answers 500 to its first delivery and 204 after: a failing n8n that comes back. */
async function flakyReceiver(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
	let hits = 0;
	const server = http.createServer((req, res) => {
		req.resume();
		hits += 1;
		res.writeHead(hits === 1 ? 500 : 204).end();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
		hits: () => hits,
		close: () => new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

describe('instance pages in a real Chromium', () => {
	let gw: BrowserGateway;
	let browser: Browser;
	let evolution: EvolutionApiFake;
	beforeAll(async () => {
		gw = await startGateway();
		browser = await launchBrowser();
		evolution = await new EvolutionApiFake({ globalKey: 'evolution-global-key' }).start();
	});
	afterAll(async () => {
		await browser?.close();
		await evolution?.stop();
		await gw?.gateway.deliveries.stop();
		await gw?.close();
	});

	const manage = (tab: string, id = gw.instanceId) => `/instances/${id}/manage?tab=${tab}&account=${gw.accountId}`;

	it('connects an Evolution instance: the QR code shows, refreshes, and turns into "Connected" once the phone has paired', async () => {
		const instance = gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'evo-front-desk',
			displayName: 'Front Desk (Evolution)',
			provider: 'evolution',
			connectionState: 'disconnected',
			providerSettings: { baseUrl: evolution.url, apiKey: 'evolution-global-key', instanceName: 'evo-front-desk' },
		});
		const { page, problems } = await newPage(browser);
		await signIn(page, gw, manage('connection', instance.id));
		await Promise.all([
			page.waitForURL((url) => url.pathname.endsWith('/manage')),
			page.click('button:has-text("Connect")'),
		]);
		const qr = page.locator('img[data-qr-image]');
		await page.waitForFunction(
			() => (document.querySelector('img[data-qr-image]') as HTMLImageElement | null)?.naturalWidth === 320,
		);
		expect(await qr.getAttribute('alt')).toContain('QR code');
		await screenshot(page, 'instance-connection-qr');

		// Evolution issues a new code (its qrcode.updated webhook, recorded the way the provider route does): the page shows it.
		const refreshed = page.waitForResponse(
			(response) => response.url().includes('/qr.png') && response.url().includes('t='),
		);
		await gw.gateway.inbound.receive(instance.id, [
			{ kind: 'qr', qrAvailable: true, code: '2@a-new-code-from-evolution' },
		]);
		expect((await refreshed).status()).toBe(200);

		// The page polls the gateway, which asks Evolution; the phone scans and Evolution reports the instance open.
		const polled = page.waitForResponse((response) => response.url().includes(`/instances/${instance.id}/connection`));
		await polled;
		evolution.instances.get('evo-front-desk')!.state = 'open';
		await page.locator('[data-connection-state]', { hasText: 'Connected' }).waitFor();
		expect(await page.locator('img[data-qr-image]').count()).toBe(0);
		await screenshot(page, 'instance-connection-connected');
		expect(problems).toEqual([]);
	});

	it('stops refreshing the QR code once the session has ended, and says so', async () => {
		const instance = gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'evo-back-office',
			provider: 'evolution',
			connectionState: 'disconnected',
			providerSettings: { baseUrl: evolution.url, apiKey: 'evolution-global-key', instanceName: 'evo-back-office' },
		});
		const { page, problems } = await newPage(browser);
		// The page's timers run on Playwright's clock: the test moves it, nothing waits on real time.
		await page.clock.install();
		await signIn(page, gw, manage('connection', instance.id));
		await Promise.all([
			page.waitForURL((url) => url.pathname.endsWith('/manage')),
			page.click('button:has-text("Connect")'),
		]);
		await page.locator('img[data-qr-image]').waitFor();
		const polls: string[] = [];
		page.on('request', (request) => {
			if (request.url().includes('/connection')) polls.push(request.url());
		});
		const first = page.waitForResponse((response) => response.url().includes('/connection'));
		await page.clock.runFor(3_000);
		await first;
		const [cookie] = await page.context().cookies();
		gw.gateway.dashboardSessions.destroy(cookie.value);
		await page.clock.runFor(3_000);
		await page.getByRole('status').getByText('Stopped refreshing').waitFor();
		// A minute more of the page's time: no further poll.
		await page.clock.runFor(60_000);
		expect(polls).toHaveLength(2);
		expect(problems.filter((problem) => !problem.includes('/connection'))).toEqual([]);
	});

	it('pauses with a reason and resumes', async () => {
		const { page, problems } = await newPage(browser);
		await signIn(page, gw, manage('connection'));
		await page.fill('#pause-reason', 'Complaint from a customer, reviewing');
		await Promise.all([
			page.waitForURL((url) => url.pathname.endsWith('/manage')),
			page.click('button:has-text("Pause")'),
		]);
		await page.getByText('since').waitFor();
		expect(gw.gateway.instances.get(gw.instanceId)).toMatchObject({
			paused: true,
			pausedReason: 'Complaint from a customer, reviewing',
		});
		await screenshot(page, 'instance-connection-paused');
		await Promise.all([
			page.waitForURL((url) => url.pathname.endsWith('/manage')),
			page.click('button:has-text("Resume sending")'),
		]);
		await page.getByRole('status').getByText('Resumed').waitFor();
		expect(gw.gateway.instances.get(gw.instanceId).paused).toBe(false);
		expect(problems).toEqual([]);
	});

	it('subscribes a webhook (secret shown once), and redelivers a failed delivery', async () => {
		const receiver = await flakyReceiver();
		gw.gateway.deliveries.start();
		try {
			const { page, problems } = await newPage(browser);
			await signIn(page, gw, manage('webhook'));
			await page.fill('#webhook-url', receiver.url);
			await page.check('input[value="message.sent"]');
			await Promise.all([
				page.waitForURL((url) => url.pathname.endsWith('/manage')),
				page.click('button:has-text("Subscribe")'),
			]);
			const secret = await page.locator('#shown-secret').textContent();
			expect(secret).toMatch(/^whsec_/);
			await screenshot(page, 'instance-webhook-subscribed');

			expect(
				(
					await gw.send({
						instance_id: gw.instanceId,
						phone: PHONE,
						message: 'Your order has shipped.',
						message_purpose: 'transactional',
					})
				).status,
			).toBe(200);
			await gw.gateway.deliveries.idle();
			expect(receiver.hits()).toBeGreaterThan(0);
			await page.goto(`${gw.url}${manage('webhook')}`);
			await page.getByText('HTTP 500').first().waitFor();
			expect(await page.locator('#shown-secret').count()).toBe(0);
			await screenshot(page, 'instance-webhook-failed-delivery');

			await Promise.all([
				page.waitForURL((url) => url.pathname.endsWith('/manage')),
				page.locator('button:has-text("Redeliver")').first().click(),
			]);
			await page.getByRole('status').getByText('is queued again').waitFor();
			await gw.gateway.deliveries.idle();
			await page.reload();
			await page.locator('.badge.ok', { hasText: 'succeeded' }).first().waitFor();
			expect(problems).toEqual([]);
		} finally {
			await gw.gateway.deliveries.stop();
			await receiver.close();
		}
	});

	it('a test send shows the log id, and a refusal as the API gives it', async () => {
		const { page, problems } = await newPage(browser);
		await signIn(page, gw, manage('test'));
		await page.fill('#test-phone', PHONE);
		await page.fill('#test-message', 'Your appointment is confirmed for Monday 10:00.');
		await page.selectOption('#test-purpose', 'transactional');
		await Promise.all([
			page.waitForURL((url) => url.pathname.endsWith('/test-send')),
			page.click('button:has-text("Send test message")'),
		]);
		await page.locator('[data-test-result]', { hasText: '"log_id"' }).waitFor();
		await screenshot(page, 'instance-test-send-sent');

		gw.gateway.suppressions.add(gw.accountId, '+966501112233', 'asked by phone', 'manual');
		await page.fill('#test-phone', '+966501112233');
		await page.click('button:has-text("Send test message")');
		await page.locator('[data-test-result]', { hasText: 'recipient_suppressed' }).waitFor();
		await screenshot(page, 'instance-test-send-refused');
		expect(problems).toEqual([]);
	});

	it('every instance page fits a phone', async () => {
		const { page, problems } = await newPage(browser, { phone: true });
		await signIn(page, gw, `/instances?account=${gw.accountId}`);
		const pages: [string, string][] = [
			['instances-phone', `/instances?account=${gw.accountId}`],
			['instance-connection-phone', manage('connection')],
			['instance-webhook-phone', manage('webhook')],
			['instance-test-send-phone', manage('test')],
		];
		for (const [name, path] of pages) {
			await page.goto(`${gw.url}${path}`);
			await screenshot(page, name);
			expect([name, await overflowsSideways(page)]).toEqual([name, false]);
		}
		expect(problems).toEqual([]);
	});

	it('lists the instances with their state', async () => {
		const { page, problems } = await newPage(browser);
		await signIn(page, gw, `/instances?account=${gw.accountId}`);
		await page.getByRole('link', { name: 'Demo Support Line' }).waitFor();
		await page.getByRole('link', { name: 'Front Desk (Evolution)' }).waitFor();
		await screenshot(page, 'instances');
		expect(problems).toEqual([]);
	});
});
