import fs from 'node:fs';
import path from 'node:path';
import { EVENT_TYPES } from '../../contract/src/events';
import { API_REFERENCE, DOC_PAGES, PORTAL_PAGES } from '../../server/src/docs/catalog';
import { headingSlug, renderMarkdown } from '../../server/src/docs/markdown';
import seed from '../fixtures/seed-002-portal-paths.json';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

const DOCS = path.resolve(__dirname, '../../docs');
const ALL_PAGES = [...DOC_PAGES, API_REFERENCE];

/** The gateway paths a page links to or loads (href and src starting with "/"), with their fragments. */
function localLinks(page: string): string[] {
	return [...page.matchAll(/(?:href|src)="(\/[^"]*)"/g)].map((match) => match[1].replace(/&amp;/g, '&'));
}

describe('docs pages', () => {
	let gw: TestGateway;
	beforeAll(() => {
		gw = createTestGateway();
	});
	afterAll(() => gw.close());

	it("map exactly seed 002's portal paths, in the seed's order and with its names", () => {
		expect(PORTAL_PAGES.map(({ path: served, title }) => ({ label: title, path: served }))).toEqual(seed.portal_paths);
	});

	it('serve every Markdown file in docs/, each from a file that exists', () => {
		const files = fs.readdirSync(DOCS).filter((name) => name.endsWith('.md'));
		expect(DOC_PAGES.map((page) => page.file).sort()).toEqual(files.sort());
	});

	it.each(ALL_PAGES.map((page) => [page.path, page.title]))(
		'%s answers 200 HTML titled "%s", with the sidebar and a strict CSP',
		async (served, title) => {
			const res = await gw.http.get(served);
			expect(res.status).toBe(200);
			expect(res.type).toBe('text/html');
			expect(res.text).toContain(`<title>${title} · WhatsApp Gateway</title>`);
			expect(res.text).toContain(`<a href="${served}" class="active" aria-current="page">`);
			// The sidebar lists the portal's sections in the seed's order, and the dashboard's sign-in.
			const sidebar = res.text.slice(res.text.indexOf('<nav class="docs-nav"'), res.text.indexOf('</nav>'));
			const order = seed.portal_paths.map((entry) => sidebar.indexOf(`href="${entry.path}"`));
			expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]))).toBe(true);
			expect(sidebar).toContain('href="/login"');
			expect(res.headers['content-security-policy']).toContain("script-src 'self';");
			expect(res.headers['content-security-policy']).toContain("style-src 'self';");
			// Nothing inline that the CSP would have to allow.
			expect(res.text).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=|javascript:/i);
		},
	);

	it('every link and asset on every docs page answers 200, and every #fragment names a heading there', async () => {
		const pages = new Map<string, string>();
		const queue = ['/docs'];
		const checked = new Set<string>();
		const broken: string[] = [];
		while (queue.length > 0) {
			const link = queue.shift() as string;
			const [target, fragment] = link.split('#');
			if (!checked.has(target)) {
				checked.add(target);
				const res = await gw.http.get(target).redirects(1);
				if (res.status !== 200) broken.push(`${target} → ${res.status}`);
				const isDocsPage = res.type === 'text/html' && (target.startsWith('/docs') || target === '/acceptable-use');
				if (isDocsPage) {
					pages.set(target, res.text);
					queue.push(...localLinks(res.text));
				}
			}
			const page = pages.get(target);
			if (fragment && page && !page.includes(`id="${fragment}"`)) broken.push(`${link}: no id "${fragment}"`);
		}
		expect(broken).toEqual([]);
		// The crawl reached every page from the overview.
		expect(ALL_PAGES.filter((page) => !pages.has(page.path)).map((page) => page.path)).toEqual([]);
	});

	it('links between the Markdown files point at the served pages; the README at /docs; other repository files are text', async () => {
		const send = (await gw.http.get('/docs/send')).text;
		expect(send).toContain('href="/docs/connect#what-changes-when-you-send"');
		expect(send).toContain('href="/docs/receive#events-and-customer-webhooks"');
		expect(send).toContain('Back to the <a href="/docs">README</a>');
		const overview = (await gw.http.get('/docs/3cx')).text;
		expect(overview).toContain('href="/docs/3cx/webhooks#security"');
		expect(overview).toMatch(
			/<span class="repository-file" title="integrations\/3cx\/README.md in the gateway's repository">/,
		);
		for (const page of DOC_PAGES) {
			const text = (await gw.http.get(page.path)).text;
			expect({
				page: page.path,
				mdLinks: [...text.matchAll(/href="[^"]*\.md(#[^"]*)?"/g)].map((match) => match[0]),
			}).toEqual({ page: page.path, mdLinks: [] });
		}
	});

	it('raw HTML in Markdown is shown as text, never passed through; unsafe link schemes are not links', async () => {
		const rendered = await renderMarkdown(
			'<script>alert(1)</script>\n\nText <img src=x onerror="alert(2)"> and <b>bold</b>.\n\n[click](javascript:alert(3))\n\n| a |\n| --- |\n| <i>x</i> |\n',
		);
		expect(rendered).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
		expect(rendered).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
		expect(rendered).toContain('<div class="table-wrap"><table>');
		expect(rendered).toContain('<td>&lt;i&gt;x&lt;/i&gt;</td>');
		expect(rendered).not.toMatch(/<script|<img|<b>|<i>|href="javascript/);
	});

	it('renders GitHub-style tables, fenced code and heading anchors like GitHub', async () => {
		const rendered = await renderMarkdown(
			'# Events, webhooks & signatures\n\n## `POST` it\n\n## `POST` it\n\n```sh\necho "<hi>"\n```\n',
		);
		expect(rendered).toContain('<h1 id="events-webhooks--signatures">');
		expect(rendered).toContain('<h2 id="post-it">');
		expect(rendered).toContain('<h2 id="post-it-1">');
		expect(rendered).toContain('<pre><code class="language-sh">echo &quot;&lt;hi&gt;&quot;\n</code></pre>');
	});

	it('an unknown docs path answers a 404 page in the docs layout', async () => {
		for (const unknown of ['/docs/nope', '/docs/3cx/nope/deeper']) {
			const res = await gw.http.get(unknown);
			expect(res.status).toBe(404);
			expect(res.type).toBe('text/html');
			expect(res.text).toContain(`There is no docs page at ${unknown}.`);
			expect(res.text).toContain('<nav class="docs-nav"');
		}
	});

	it('serves the API reference renderer from the gateway itself, only the files it needs; /docs/openapi leads to it', async () => {
		const bundle = await gw.http.get('/assets/swagger-ui/swagger-ui-bundle.js');
		expect(bundle.status).toBe(200);
		expect(bundle.type).toBe('text/javascript');
		expect(bundle.text).toContain('SwaggerUIBundle');
		const css = await gw.http.get('/assets/swagger-ui/swagger-ui.css');
		expect(css.status).toBe(200);
		expect(css.type).toBe('text/css');
		expect(
			(await gw.http.get('/assets/swagger-ui/swagger-ui-bundle.js').set('If-None-Match', bundle.headers.etag)).status,
		).toBe(304);
		expect((await gw.http.get('/assets/swagger-ui/index.html')).status).toBe(404);
		expect((await gw.http.get('/assets/api-reference.js')).text).toContain('validatorUrl: null');
		const page = (await gw.http.get('/docs/api')).text;
		expect(page).toContain('data-spec-url="/openapi.json"');
		const moved = await gw.http.get('/docs/openapi');
		expect(moved.status).toBe(301);
		expect(moved.headers.location).toBe('/docs/api');
	});

	it('the endpoints page names all sixteen webhook event types', async () => {
		const page = (await gw.http.get('/docs/endpoints')).text;
		expect(EVENT_TYPES.filter((type) => !page.includes(`<code>${type}</code>`))).toEqual([]);
	});

	it("the README's links into docs/ name files that exist", () => {
		const readme = fs.readFileSync(path.resolve(DOCS, '../README.md'), 'utf8');
		const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((match) => match[1]);
		expect(linked.length).toBeGreaterThan(5);
		expect(linked.filter((file) => !fs.existsSync(path.resolve(DOCS, '..', file)))).toEqual([]);
	});

	it('every relative link in the README and the docs names a file that exists, and a heading there', () => {
		const anchorsOf = (file: string) => {
			const taken = new Map<string, number>();
			const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
			return [...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => headingSlug(match[1].replace(/`/g, ''), taken));
		};
		const sources = [path.resolve(DOCS, '../README.md'), ...fs.readdirSync(DOCS).map((name) => path.join(DOCS, name))];
		const broken: string[] = [];
		for (const source of sources.filter((file) => file.endsWith('.md'))) {
			const text = fs.readFileSync(source, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
			for (const [, href] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
				if (/^([a-z][a-z0-9+.-]*:|\/)/i.test(href)) continue;
				const [target, fragment] = href.split('#');
				const file = target === '' ? source : path.resolve(path.dirname(source), target);
				const where = `${path.relative(path.resolve(DOCS, '..'), source)}: ${href}`;
				if (!fs.existsSync(file)) broken.push(`${where} (no such file)`);
				else if (fragment && file.endsWith('.md') && !anchorsOf(file).includes(fragment)) {
					broken.push(`${where} (no such heading)`);
				}
			}
		}
		expect(broken).toEqual([]);
	});
});
