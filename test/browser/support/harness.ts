import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Gateway } from '../../../server/src/gateway';

export const ADMIN_TOKEN = 'browser-test-operator-token';
const SCREENSHOTS = path.resolve(__dirname, '../../../.cache/screenshots');

/** A real gateway on a loopback port with a database file of its own: one account, a sandbox instance, a key. */
export interface BrowserGateway {
	url: string;
	gateway: Gateway;
	accountId: number;
	apiKey: string;
	instanceId: string;
	/** Sends through the real `POST /api/send-message`, as a customer's system would. */
	send(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }>;
	close(): Promise<void>;
}

export async function startGateway(): Promise<BrowserGateway> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-browser-'));
	const gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), adminToken: ADMIN_TOKEN });
	const account = gateway.accounts.create({ name: 'Acme Clinic' });
	const instance = gateway.instances.create({
		accountId: account.id,
		name: 'demo-support-line',
		displayName: 'Demo Support Line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const { key } = gateway.accounts.createKey(account.id, 'crm');
	const server = http.createServer(gateway.createApp().callback());
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url,
		gateway,
		accountId: account.id,
		apiKey: key,
		instanceId: instance.id,
		send: async (body) => {
			const res = await fetch(`${url}/api/send-message`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
				body: JSON.stringify(body),
			});
			return { status: res.status, body: (await res.json()) as Record<string, unknown> };
		},
		close: async () => {
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			gateway.close();
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
}

/** Debian's Chromium (scripts/browser-install.sh), or CHROMIUM_PATH. */
export function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-dev-shm-usage'],
	});
}

export const PHONE_VIEWPORT = { width: 390, height: 844 };

/**
 * A fresh browser context (no cookies) and page. `problems` collects what a person would not see but a
 * page must not do: script errors, console errors (the Content-Security-Policy reports there), and
 * stylesheets, scripts or images that fail to load.
 */
export async function newPage(
	browser: Browser,
	options: { phone?: boolean } = {},
): Promise<{ page: Page; problems: string[] }> {
	const context = await browser.newContext({
		viewport: options.phone ? PHONE_VIEWPORT : { width: 1280, height: 900 },
		isMobile: options.phone ?? false,
		hasTouch: options.phone ?? false,
		permissions: ['clipboard-read', 'clipboard-write'],
	});
	const page = await context.newPage();
	const problems: string[] = [];
	page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
	page.on('console', (message) => {
		// A page answered with 4xx on purpose (a refusal page) is logged as "Failed to load resource": the
		// responses below judge sub-resources instead.
		if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
			problems.push(`console: ${message.text()}`);
	});
	page.on('response', (response) => {
		if (response.request().resourceType() !== 'document' && response.status() >= 400) {
			problems.push(`${response.status()} for ${response.url()}`);
		}
	});
	page.on('requestfailed', (request) =>
		problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`),
	);
	return { page, problems };
}

/** Signs in through the sign-in form, as the operator would. */
export async function signIn(page: Page, gw: BrowserGateway, next = '/dashboard'): Promise<void> {
	await page.goto(`${gw.url}/login?next=${encodeURIComponent(next)}`);
	await page.fill('#token', ADMIN_TOKEN);
	await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.click('button[type=submit]')]);
}

/** Saves a full-page screenshot under .cache/screenshots/ (to look at; not compared). */
export async function screenshot(page: Page, name: string): Promise<string> {
	fs.mkdirSync(SCREENSHOTS, { recursive: true });
	const file = path.join(SCREENSHOTS, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

/** Whether the page is wider than the viewport (a phone would have to scroll sideways). */
export function overflowsSideways(page: Page): Promise<boolean> {
	return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/** A suite's gateway and browser, there from its `beforeAll` on. */
export interface BrowserSuite {
	gw: BrowserGateway;
	browser: Browser;
}

/**
 * Starts a gateway and Chromium before the suite's tests (then runs `setup`, e.g. to seed data through the
 * real API) and closes both after them.
 */
export function browserSuite(setup?: (suite: BrowserSuite) => Promise<void>): BrowserSuite {
	const suite = {} as BrowserSuite;
	beforeAll(async () => {
		suite.gw = await startGateway();
		suite.browser = await launchBrowser();
		await setup?.(suite);
	});
	afterAll(async () => {
		await suite.browser?.close();
		await suite.gw?.close();
	});
	return suite;
}
