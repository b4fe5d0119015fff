import type { Context, Middleware } from 'koa';
import { bearerToken } from '../http/bearer';
import { ApiError } from '../http/errors';
import type { Account, AccountService, ApiKeyInfo } from './service';

/** Who is calling with an API key: the key and its account. */
export interface Caller {
	key: ApiKeyInfo;
	account: Account;
}

const callers = new WeakMap<Context, Caller>();

/** 401 invalid_api_key / revoked_api_key unless the request carries a live API key (step 2 of the send pipeline). */
export function requireApiKey(accounts: Pick<AccountService, 'authenticate'>): Middleware {
	return async (ctx, next) => {
		callers.set(ctx, accounts.authenticate(bearerToken(ctx.get('authorization'))));
		await next();
	};
}

/** The caller `requireApiKey` authenticated; only routes behind it ask. */
export function callerOf(ctx: Context): Caller {
	const caller = callers.get(ctx);
	if (!caller) throw new Error('callerOf() on a route without requireApiKey');
	return caller;
}

/** Tells whether a token is the operator's (GATEWAY_ADMIN_TOKEN or the one generated at first start). */
export type OperatorCheck = (token: string | undefined) => boolean;

/** Whether this request carries the operator token (for routes that accept more than one credential). */
export function isOperatorRequest(ctx: Context, isOperator: OperatorCheck): boolean {
	return isOperator(bearerToken(ctx.get('authorization')));
}

/** 401 invalid_admin_token unless the request carries the operator token. */
export function requireOperator(isOperator: OperatorCheck): Middleware {
	return async (ctx, next) => {
		if (!isOperatorRequest(ctx, isOperator)) throw new ApiError('invalid_admin_token');
		await next();
	};
}
