import Router from '@koa/router';
import type Koa from 'koa';
import { ApiError } from '../http/errors';
import type { HealthChecks, HealthReport } from './health';
import { sendMetricsMiddleware, type GatewayMetrics } from './metrics';

export interface OperationsDeps {
  health: HealthChecks;
  metrics: GatewayMetrics;
  /** The operator token check (GATEWAY_ADMIN_TOKEN or the generated one). */
  verifyOperator: (token: string | undefined) => boolean;
}

/** What the HTTP app mounts: `observe` outside the error middleware, the routes on its router. */
export interface OperationsHttp {
  observe: Koa.Middleware;
  register(router: Router): void;
}

function answer(ctx: Koa.Context, health: HealthReport): void {
  ctx.status = health.status === 'ok' ? 200 : 503;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { success: health.status === 'ok', ...health };
}

/** `/healthz` and `/readyz` for probes (no auth: they reveal nothing), `/metrics` for Prometheus (operator token). */
export function operationsHttp(deps: OperationsDeps): OperationsHttp {
  const register = (router: Router) => {
    router.get('/healthz', (ctx) => answer(ctx, deps.health.liveness()));
    router.get('/readyz', (ctx) => answer(ctx, deps.health.readiness()));
    router.get('/metrics', async (ctx) => {
      const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
      if (!deps.verifyOperator(token)) throw new ApiError('invalid_admin_token');
      const { contentType, text } = await deps.metrics.render();
      ctx.set('Cache-Control', 'no-store');
      ctx.type = contentType;
      ctx.body = text;
    });
  };
  return { observe: sendMetricsMiddleware(deps.metrics), register };
}
