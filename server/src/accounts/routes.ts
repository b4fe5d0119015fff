import Router from '@koa/router';
import type { Middleware } from 'koa';
import { callerOf } from './auth';
import { meJson, type AccountUsage } from './presenters';
import type { Account } from './service';

export interface AccountRoutesDeps {
	requireApiKey: Middleware;
	usage: (account: Account) => AccountUsage;
}

/** `GET /api/me`: the caller's own account (the credential test). */
export function accountRoutes(deps: AccountRoutesDeps): Router {
	const router = new Router();
	router.get('/api/me', deps.requireApiKey, (ctx) => {
		const { account, key } = callerOf(ctx);
		ctx.body = meJson(account, key, deps.usage(account));
	});
	return router;
}
