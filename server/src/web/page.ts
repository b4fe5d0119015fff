import type { Context, Middleware } from 'koa';
import { isTransientStorageError } from '../db/storage-errors';
import { ApiError } from '../http/errors';
import { InputError } from '../input-error';
import type { Logger } from '../logger';
import { html, type HtmlValue, type SafeHtml } from './html';

/** A page's refusal, shown as an HTML page with this status (an ApiError from a service is shown the same way). */
export class PageError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = 'PageError';
	}
}

/**
 * Headers on every page the gateway renders (dashboard and docs): everything comes from the gateway
 * itself (no CDN, works offline), nothing may frame it, no inline script or style, and forms post only here.
 */
export const pageHeaders: Middleware = async (ctx, next) => {
	try {
		await next();
	} finally {
		ctx.set({
			'Content-Security-Policy':
				"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; " +
				"base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
			'X-Content-Type-Options': 'nosniff',
			'X-Frame-Options': 'DENY',
			'Referrer-Policy': 'same-origin',
		});
		if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
	}
};

/** How a failure reads on a page: the status and a sentence for a person. */
export function pageFailure(error: unknown): { status: number; message: string; headers: Record<string, string> } {
	if (error instanceof PageError) return { status: error.status, message: error.message, headers: error.headers };
	if (error instanceof ApiError) return { status: error.status, message: error.message, headers: error.headers };
	if (error instanceof InputError) return { status: 422, message: error.message, headers: {} };
	if (isTransientStorageError(error)) {
		return {
			status: 503,
			message: 'The gateway cannot write to its database right now (the disk may be full). Try again shortly.',
			headers: {},
		};
	}
	return { status: 500, message: 'Something went wrong on the gateway. The details are in its log.', headers: {} };
}

export type ErrorPage = (ctx: Context, status: number, message: string) => SafeHtml;

/** Turns any failure below into an HTML page (never JSON, never a stack trace); unexpected ones are logged. */
export function htmlErrors(logger: Logger, render: ErrorPage): Middleware {
	return async (ctx, next) => {
		try {
			await next();
		} catch (error) {
			const failure = pageFailure(error);
			if (failure.status >= 500) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'page failed');
			ctx.status = failure.status;
			ctx.set(failure.headers);
			ctx.type = 'html';
			ctx.body = render(ctx, failure.status, failure.message).value;
		}
	};
}

/** The HTML document around every page: viewport for phones, the gateway's own stylesheet and script. */
export function documentShell(options: { title: string; body: HtmlValue; bodyClass?: string }): SafeHtml {
	return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · WhatsApp Gateway</title>
<link rel="stylesheet" href="/assets/gateway.css">
<script src="/assets/gateway.js" defer></script>
</head>
<body class="${options.bodyClass ?? ''}">
${options.body}
</body>
</html>`;
}

/** Sends a rendered page. */
export function sendPage(ctx: Context, page: SafeHtml, status = 200): void {
	ctx.status = status;
	ctx.type = 'html';
	ctx.body = page.value;
}
