import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { serverFolder } from '../common/server-files';

const TYPES: Record<string, string> = {
	'.css': 'text/css; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.woff2': 'font/woff2',
};

export interface Asset {
	body: Buffer;
	type: string;
	etag: string;
}

/** Reads a folder's files (one level) into memory once: a few small files the pages need. */
export function loadAssets(dir: string): Map<string, Asset> {
	const assets = new Map<string, Asset>();
	for (const name of fs.readdirSync(dir)) {
		const type = TYPES[path.extname(name)];
		const file = path.join(dir, name);
		if (!type || !fs.statSync(file).isFile()) continue;
		assets.set(name, readAsset(file));
	}
	return assets;
}

/** One file as an asset: its bytes, its type (by extension) and an ETag of its content. */
export function readAsset(file: string): Asset {
	const body = fs.readFileSync(file);
	const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
	return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Answers with an asset, revalidated by ETag (an upgrade changes it). */
export function sendAsset(ctx: Context, asset: Asset): void {
	ctx.set('Cache-Control', 'no-cache');
	ctx.set('X-Content-Type-Options', 'nosniff');
	ctx.status = 200;
	ctx.etag = asset.etag;
	ctx.type = asset.type;
	if (ctx.fresh) {
		ctx.status = 304;
		return;
	}
	ctx.body = asset.body;
}

/**
 * `GET /assets/{name}`: the stylesheet, script and images of the pages, served by the gateway itself so
 * the dashboard and docs work with no internet.
 */
export function assetRoutes(assets = loadAssets(serverFolder('assets'))): Router {
	const router = new Router();
	router.get('/assets/:name', (ctx) => {
		const asset = assets.get(ctx.params.name);
		if (asset) sendAsset(ctx, asset);
	});
	return router;
}
