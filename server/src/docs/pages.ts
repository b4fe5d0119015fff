import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { repositoryFolder } from '../common/server-files';
import type { Logger } from '../logger';
import { html, raw, type SafeHtml } from '../web/html';
import { htmlErrors, pageHeaders, PageError, sendPage } from '../web/page';
import { addApiReference } from './api-reference';
import { DOC_PAGES, type DocPage } from './catalog';
import { docsPage } from './layout';
import { renderMarkdown } from './markdown';

export interface DocsPagesDeps {
	logger: Logger;
	/** The Markdown files; the repository's `docs/` unless a test says otherwise. */
	docsFolder?: string;
}

/**
 * The public docs pages (no sign-in), rendered from the repository's `docs/*.md`, the same files the
 * README links to: each page is rendered on its first request and kept. Unknown `/docs/…` paths answer
 * a 404 page.
 */
export function docsPageRoutes(deps: DocsPagesDeps): Router {
	const folder = deps.docsFolder ?? repositoryFolder('docs');
	const rendered = new Map<string, SafeHtml>();
	const render = async (page: DocPage): Promise<SafeHtml> => {
		let result = rendered.get(page.path);
		if (!result) {
			const source = fs.readFileSync(path.join(folder, page.file), 'utf8');
			const content = await renderMarkdown(source);
			result = docsPage({
				title: page.title,
				path: page.path,
				content: html`<article class="prose">${raw(content)}</article>`,
			});
			rendered.set(page.path, result);
		}
		return result;
	};

	const router = new Router();
	router.use(pageHeaders);
	router.use(
		htmlErrors(deps.logger, (ctx, status, message) =>
			docsPage({
				title: `${status}: not here`,
				path: ctx.path,
				content: html`<article class="prose"><h1>${status}: not here</h1><p>${message}</p><p><a href="/docs">All docs</a></p></article>`,
			}),
		),
	);
	addApiReference(router);
	for (const page of DOC_PAGES) router.get(page.path, async (ctx) => sendPage(ctx, await render(page)));
	router.get('/docs/*rest', (ctx) => {
		throw new PageError(404, `There is no docs page at ${ctx.path}.`);
	});
	return router;
}
