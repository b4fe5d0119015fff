import Router from '@koa/router';
import type { Middleware } from 'koa';
import { callerOf } from '../accounts/auth';
import { instanceJson } from './presenter';
import type { InstanceService } from './service';

/** `GET /api/instances`: the caller's instances (the Send node's instance list). */
export function instanceRoutes(deps: { requireApiKey: Middleware; instances: InstanceService }): Router {
	const router = new Router();
	router.get('/api/instances', deps.requireApiKey, (ctx) => {
		ctx.body = { success: true, instances: deps.instances.list(callerOf(ctx).account.id).map(instanceJson) };
	});
	return router;
}
