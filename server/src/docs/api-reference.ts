import path from 'node:path';
import type Router from '@koa/router';
import { html, type SafeHtml } from '../web/html';
import { readAsset, sendAsset, type Asset } from '../web/assets';
import { API_REFERENCE } from './catalog';
import { docsPage } from './layout';

/** Where the renderer's files are served: only the two the page needs, from the installed package (no CDN). */
const SWAGGER_UI_PATH = '/assets/swagger-ui';
const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'];

function swaggerUiAssets(): Map<string, Asset> {
	const folder = path.dirname(require.resolve('swagger-ui-dist/package.json'));
	return new Map(SWAGGER_UI_FILES.map((name) => [name, readAsset(path.join(folder, name))]));
}

/**
 * `GET /docs/api`: Swagger UI (swagger-ui-dist) over the served `/openapi.json`. The page's own script
 * (`/assets/api-reference.js`) starts it; without JavaScript the page links the JSON document.
 */
function apiReferencePage(): SafeHtml {
	return docsPage({
		title: API_REFERENCE.title,
		path: API_REFERENCE.path,
		content: html`<link rel="stylesheet" href="${SWAGGER_UI_PATH}/swagger-ui.css">
<div class="api-reference">
  <h1>API reference</h1>
  <p>Every route of this gateway, drawn from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3). The guides explain them:
  <a href="/docs/send">Send</a>, <a href="/docs/receive">Receive</a>, <a href="/docs/3cx/webhooks">3CX webhooks</a>.</p>
  <div id="swagger-ui" data-spec-url="/openapi.json"><noscript><p>The reference needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</p></noscript></div>
</div>
<script src="${SWAGGER_UI_PATH}/swagger-ui-bundle.js" defer></script>
<script src="/assets/api-reference.js" defer></script>`,
	});
}

/** Registers the API reference page, its old name `/docs/openapi` and the renderer's files. */
export function addApiReference(router: Router): void {
	let assets: Map<string, Asset> | undefined;
	router.get(`${SWAGGER_UI_PATH}/:name`, (ctx) => {
		assets ??= swaggerUiAssets();
		const asset = assets.get(ctx.params.name);
		if (asset) sendAsset(ctx, asset);
	});
	router.get(API_REFERENCE.path, (ctx) => {
		ctx.type = 'html';
		ctx.body = apiReferencePage().value;
	});
	router.get('/docs/openapi', (ctx) => {
		ctx.status = 301;
		ctx.redirect(API_REFERENCE.path);
	});
}
