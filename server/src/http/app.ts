import Router from '@koa/router';
import Koa from 'koa';
import type { Clock } from '../clock';
import { isTransientStorageError } from '../db/storage-errors';
import { InputError } from '../input-error';
import type { Logger } from '../logger';
import { ApiError, errorBody } from './errors';

export interface AppOptions {
	clock: Clock;
	logger: Logger;
	/** One router per area, each built with only the dependencies it needs (routes.ts composes them). */
	routers: Router[];
	/**
	 * Routers of HTML pages (dashboard, docs, their assets): tried after the JSON API's routes, and
	 * answering failures as pages of their own.
	 */
	pages?: Router[];
	/**
	 * Behind a reverse proxy (GATEWAY_TRUST_PROXY): the client's address is the last X-Forwarded-For hop
	 * (the one the proxy added; earlier ones are the client's word), the scheme and host X-Forwarded-*.
	 */
	trustProxy?: boolean;
	/** Middlewares that see every answer as it leaves, refusals included (the send metrics): outside the error mapping. */
	observers?: Koa.Middleware[];
}

/**
 * Maps every thrown error to `{success:false,error,message,details}`: ApiError as it is, InputError as
 * 422 validation_error with the fields, anything else as 500 internal_error with nothing internal.
 */
function errorMiddleware(logger: Logger): Koa.Middleware {
	return async (ctx, next) => {
		try {
			await next();
			if (ctx.body === undefined || ctx.body === null) {
				// The router answered by status alone (no route, or a method the route lacks; Allow is already set).
				if (ctx.status === 404) throw new ApiError('not_found', { path: ctx.path });
				if (ctx.status === 405 || ctx.status === 501) throw new ApiError('method_not_allowed', { method: ctx.method });
			}
		} catch (error) {
			const apiError = toApiError(error);
			if (apiError.code === 'internal_error') {
				logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unexpected error');
			} else if (apiError.code === 'storage_unavailable') {
				logger.error({ err: error, method: ctx.method, path: ctx.path }, 'the database refused a write');
			}
			ctx.status = apiError.status;
			ctx.set(apiError.headers);
			ctx.body = errorBody(apiError);
		}
	};
}

/** How long a client is asked to wait while the database refuses writes. */
const STORAGE_RETRY_AFTER_SECONDS = '5';

export function toApiError(error: unknown): ApiError {
	if (error instanceof ApiError) return error;
	if (isTransientStorageError(error)) {
		return new ApiError('storage_unavailable', {}, { 'Retry-After': STORAGE_RETRY_AFTER_SECONDS });
	}
	if (error instanceof InputError)
		return new ApiError('validation_error', { fields: error.fields ?? { request: error.message } });
	const status = (error as { status?: number }).status;
	if (status === 404) return new ApiError('not_found');
	return new ApiError('internal_error');
}

/**
 * One line per request. Its four fields are fixed and none can hold a secret, so it skips the redaction
 * pass (the same output, at a quarter of the CPU; every other line is still redacted).
 */
function accessLog(logger: Logger, clock: Clock): Koa.Middleware {
	const requests = logger.child({}, { redact: { paths: [] } });
	return async (ctx, next) => {
		const started = clock.now();
		try {
			await next();
		} finally {
			requests.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: clock.now() - started }, 'request');
		}
	};
}

/** Builds the gateway's HTTP application from the areas' routers; never listens (server.ts does). */
export function createApp(options: AppOptions): Koa {
	const app = new Koa();
	app.proxy = options.trustProxy ?? false;
	app.maxIpsCount = 1;
	app.use(accessLog(options.logger, options.clock));
	for (const observer of options.observers ?? []) app.use(observer);
	app.use(errorMiddleware(options.logger));
	// One root router over the areas' routes, so 404 and 405 (with Allow) are decided over all of them.
	const root = new Router();
	for (const router of options.routers) root.use(router.routes());
	app.use(root.routes());
	app.use(root.allowedMethods());
	for (const pages of options.pages ?? []) app.use(pages.routes());
	// Koa's own error event: the middleware above already answered; keep it from printing stack traces.
	app.on('error', () => undefined);
	return app;
}
