import { html, type HtmlValue, type SafeHtml } from '../web/html';
import { documentShell } from '../web/page';
import { API_REFERENCE, PORTAL_PAGES, REFERENCE_PAGES } from './catalog';

/** The 3CX pages sit under the overview in the sidebar. */
const isSubPage = (path: string): boolean => path.startsWith('/docs/3cx/');

function navLink(href: string, label: string, current: string, sub = false): SafeHtml {
	const link =
		href === current
			? html`<a href="${href}" class="active" aria-current="page">${label}</a>`
			: html`<a href="${href}">${label}</a>`;
	return sub ? html`<li class="sub">${link}</li>` : html`<li>${link}</li>`;
}

/** The sidebar: seed 002's portal sections in its order, then the reference pages and the dashboard. */
function sidebar(current: string): SafeHtml {
	return html`<nav class="docs-nav" aria-label="Documentation">
  <h2>Guides</h2>
  <ul>${PORTAL_PAGES.map((page) => navLink(page.path, page.title, current, isSubPage(page.path)))}</ul>
  <h2>Reference</h2>
  <ul>
    ${navLink(API_REFERENCE.path, API_REFERENCE.title, current)}
    ${REFERENCE_PAGES.map((page) => navLink(page.path, page.title, current))}
  </ul>
  <h2>Operators</h2>
  <ul><li><a href="/login">Dashboard sign-in</a></li></ul>
</nav>`;
}

/**
 * A public docs page (no sign-in): the top bar, the sidebar and the content. On a phone the sidebar
 * becomes a block of links above the content.
 */
export function docsPage(options: { title: string; path: string; content: HtmlValue }): SafeHtml {
	return documentShell({
		title: options.title,
		bodyClass: 'docs-site',
		body: html`<header class="topbar">
  <a class="brand" href="/docs">WhatsApp Gateway docs</a>
  <a href="/login">Dashboard</a>
</header>
<main>
<div class="docs">
${sidebar(options.path)}
<div class="docs-content">${options.content}</div>
</div>
</main>`,
	});
}
