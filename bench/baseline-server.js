'use strict';

/**
 * Baseline for `npm run bench`: a bare Koa app with one JSON route that reads and parses the request
 * body (as any JSON API must) and answers a small JSON object; nothing is checked or stored.
 */

const Koa = require('koa');
const { runChild } = require('./child');

async function readJson(req) {
	const chunks = [];
	for await (const chunk of req) chunks.push(chunk);
	return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

runChild({
	setup() {
		const app = new Koa();
		app.use(async (ctx) => {
			if (ctx.method === 'POST' && ctx.path === '/') {
				const body = await readJson(ctx.req);
				ctx.body = { success: true, phone: body.phone };
			}
		});
		return { app, info: { koa: require('koa/package.json').version } };
	},
});
