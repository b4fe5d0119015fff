import Router from '@koa/router';
import type Koa from 'koa';
import type { HealthChecks, HealthReport } from './health';
import type { GatewayMetrics } from './metrics';

export interface OperationsRoutesDeps {
	health: HealthChecks;
	metrics: GatewayMetrics;
	requireOperator: Koa.Middleware;
}

function answer(ctx: Koa.Context, health: HealthReport): void {
	ctx.status = health.status === 'ok' ? 200 : 503;
	ctx.set('Cache-Control', 'no-store');
	ctx.body = { success: health.status === 'ok', ...health };
}

/** `/healthz` and `/readyz` for probes (no auth: they reveal nothing), `/metrics` for Prometheus (operator token). */
export function operationsRoutes(deps: OperationsRoutesDeps): Router {
	const router = new Router();
	router.get('/healthz', (ctx) => answer(ctx, deps.health.liveness()));
	router.get('/readyz', (ctx) => answer(ctx, deps.health.readiness()));
	router.get('/metrics', deps.requireOperator, async (ctx) => {
		const { contentType, text } = await deps.metrics.render();
		ctx.set('Cache-Control', 'no-store');
		ctx.type = contentType;
		ctx.body = text;
	});
	return router;
}
