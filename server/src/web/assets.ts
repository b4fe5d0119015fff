import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { serverFolder } from '../common/server-files';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

interface Asset {
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
    const body = fs.readFileSync(file);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

/**
 * `GET /assets/{name}`: the stylesheet, script and images of the pages, served by the gateway itself so
 * the dashboard and docs work with no internet. Revalidated by ETag (an upgrade changes them).
 */
export function assetRoutes(assets = loadAssets(serverFolder('assets'))): Router {
  const router = new Router();
  router.get('/assets/:name', (ctx) => {
    const asset = assets.get(ctx.params.name);
    if (!asset) return;
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
  });
  return router;
}
