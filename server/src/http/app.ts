import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import { openApiDocument } from '../docs/openapi';
import type { InboundService } from '../events/inbound';
import { registerEventRoutes } from '../events/routes';
import type { WebhookService } from '../events/webhooks';
import type { InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import { registerMessagingRoutes } from '../messaging/routes';
import type { SendService } from '../messaging/service';
import { registerAccountRoutes } from '../accounts/routes';
import { ApiError, errorBody } from './errors';
import type { OperationsHttp } from '../operations/routes';

export interface AppDeps {
  clock: Clock;
  logger: Logger;
  version: string;
  accounts: AccountService;
  instances: InstanceService;
  sends: SendService;
  inbound: InboundService;
  webhooks: WebhookService;
  /** Checks an operator token (GATEWAY_ADMIN_TOKEN or the generated one). */
  verifyOperator: (token: string | undefined) => boolean;
  /** Health probes, metrics and the send counters (server/src/operations). */
  operations?: OperationsHttp;
}

/** Maps every thrown error to `{success:false,error,message,details}`; nothing internal leaves the process. */
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
      const apiError = error instanceof ApiError ? error : toApiError(error);
      if (apiError.code === 'internal_error') {
        logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unexpected error');
      }
      ctx.status = apiError.status;
      ctx.set(apiError.headers);
      ctx.body = errorBody(apiError);
    }
  };
}

function toApiError(error: unknown): ApiError {
  const status = (error as { status?: number }).status;
  if (status === 404) return new ApiError('not_found');
  return new ApiError('internal_error');
}

function accessLog(logger: Logger, clock: Clock): Koa.Middleware {
  return async (ctx, next) => {
    const started = clock.now();
    try {
      await next();
    } finally {
      logger.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: clock.now() - started },
        'request',
      );
    }
  };
}

/** Builds the gateway's HTTP application; never listens (server.ts does). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();

  router.get('/', (ctx: Context) => {
    ctx.body = { success: true, status: 'ok', version: deps.version };
  });
  router.get('/openapi.json', (ctx: Context) => {
    ctx.body = openApiDocument;
  });
  registerMessagingRoutes(router, deps);
  registerAccountRoutes(router, deps);
  registerEventRoutes(router, deps);
  deps.operations?.register(router);

  app.use(accessLog(deps.logger, deps.clock));
  if (deps.operations) app.use(deps.operations.observe);
  app.use(errorMiddleware(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa's own error event: the middleware above already answered; keep it from printing stack traces.
  app.on('error', () => undefined);
  return app;
}
