import Router from '@koa/router';
import { openApiDocument } from './openapi';

/** `GET /` (the health document) and `GET /openapi.json` (our superset of seed 001). */
export function docsRoutes(deps: { version: string; publicUrl: string }): Router {
	const openApi = openApiDocument(deps.publicUrl);
	const router = new Router();
	router.get('/', (ctx) => {
		ctx.body = { success: true, status: 'ok', version: deps.version };
	});
	router.get('/openapi.json', (ctx) => {
		ctx.body = openApi;
	});
	return router;
}
