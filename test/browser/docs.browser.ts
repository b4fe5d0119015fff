import type { Browser, Page } from 'playwright-core';
import { API_REFERENCE, DOC_PAGES } from '../../server/src/docs/catalog';
import {
	launchBrowser,
	newPage,
	overflowsSideways,
	screenshot,
	startGateway,
	type BrowserGateway,
} from './support/harness';

/** Every URL the page requests, to check that none leaves the gateway. */
function recordRequests(page: Page): string[] {
	const urls: string[] = [];
	page.on('request', (request) => urls.push(request.url()));
	return urls;
}

/** The innermost elements that reach past the right edge of the screen (what makes a page scroll sideways). */
function tooWide(page: Page): Promise<string[]> {
	return page.evaluate(() =>
		Array.from(document.querySelectorAll('body *'))
			.filter(
				(el) =>
					el.getBoundingClientRect().right > window.innerWidth + 1 &&
					!Array.from(el.children).some((child) => child.getBoundingClientRect().right > window.innerWidth + 1),
			)
			.filter((el) => !el.closest('.table-wrap, pre'))
			.map((el) => `${el.tagName.toLowerCase()}: ${(el.textContent ?? '').slice(0, 60)}`),
	);
}

const shotName = (served: string, phone: boolean): string =>
	`docs${served.replace(/\//g, '-').replace(/^-docs/, '') || '-overview'}${phone ? '-phone' : ''}`;

describe('docs pages in a real Chromium', () => {
	let gw: BrowserGateway;
	let browser: Browser;
	// Public pages: no sign-in, so the gateway and the browser start side by side.
	beforeAll(async () => {
		[gw, browser] = await Promise.all([startGateway(), launchBrowser()]);
	});
	afterAll(() => Promise.all([browser?.close(), gw?.close()]));

	// One test per page and screen: each well inside the suite's per-test timeout on a busy machine.
	describe.each([
		['desktop', false],
		['phone', true],
	])('on a %s', (_screen, phone) => {
		it.each(DOC_PAGES.map((doc) => [doc.path, doc]))(
			'%s loads its own stylesheet and script under the CSP, asks nothing of other sites, and fits the screen',
			async (_path, doc) => {
				const { page, problems } = await newPage(browser, { phone });
				const requests = recordRequests(page);
				const res = await page.goto(`${gw.url}${doc.path}`);
				expect(res?.status()).toBe(200);
				expect(await page.title()).toBe(`${doc.title} · WhatsApp Gateway`);
				// The stylesheet applied: the sidebar's current page is highlighted.
				expect(
					await page.evaluate(() => getComputedStyle(document.querySelector('.docs-nav a.active')!).fontWeight),
				).toBe('600');
				await screenshot(page, shotName(doc.path, phone));
				expect({ overflows: await overflowsSideways(page), widest: await tooWide(page) }).toEqual({
					overflows: false,
					widest: [],
				});
				expect(problems).toEqual([]);
				expect(requests.filter((url) => !url.startsWith(`${gw.url}/`))).toEqual([]);
				await page.context().close();
			},
		);
	});

	it('the sidebar links lead to their pages with the keyboard', async () => {
		const { page, problems } = await newPage(browser);
		await page.goto(`${gw.url}/docs`);
		await page.locator('.docs-nav a[href="/docs/3cx/call-events"]').focus();
		await Promise.all([
			page.waitForURL((url) => url.pathname === '/docs/3cx/call-events'),
			page.keyboard.press('Enter'),
		]);
		await page.getByRole('heading', { level: 1, name: '3CX call event templates' }).waitFor();
		expect(problems).toEqual([]);
	});

	for (const phone of [false, true]) {
		it(`/docs/api renders the gateway's own OpenAPI with Swagger UI, served locally (${phone ? 'phone' : 'desktop'})`, async () => {
			const { page, problems } = await newPage(browser, { phone });
			const requests = recordRequests(page);
			await page.goto(`${gw.url}${API_REFERENCE.path}`);
			const operation = page.locator('.opblock-summary-path', { hasText: /^\/api\/send-message$/ });
			await operation.first().waitFor({ timeout: 20000 });
			await operation.first().click();
			await page.locator('.opblock-body').first().waitFor();
			expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('WhatsApp Gateway');
			expect(await overflowsSideways(page)).toBe(false);
			await screenshot(page, `docs-api${phone ? '-phone' : ''}`);
			expect(problems).toEqual([]);
			expect(requests.filter((url) => !url.startsWith(`${gw.url}/`))).toEqual([]);
			expect(requests).toContain(`${gw.url}/openapi.json`);
		});
	}

	it('an unknown docs page is a 404 page in the docs layout', async () => {
		const { page, problems } = await newPage(browser, { phone: true });
		const res = await page.goto(`${gw.url}/docs/nope`);
		expect(res?.status()).toBe(404);
		await page.getByText('There is no docs page at /docs/nope.').waitFor();
		await screenshot(page, 'docs-404-phone');
		expect(problems).toEqual([]);
	});
});
