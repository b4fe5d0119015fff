import { timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Clock } from '../clock';
import { readTextBody } from '../http/body';
import { PageError } from '../web/page';
import type { DashboardSession, DashboardSessions, Flash } from './sessions';

const CSRF_MESSAGE =
	'This form has expired or did not come from this dashboard. Go back, reload the page and try again.';

export const SESSION_COOKIE = 'wg_dashboard';
const MAX_FORM_BYTES = 1024 * 1024;

export interface WebDeps {
	sessions: DashboardSessions;
	clock: Clock;
	/** Mark the cookie Secure: the gateway is reached over https (GATEWAY_PUBLIC_URL), or this request came by TLS. */
	secureCookies: boolean;
	/** GATEWAY_PUBLIC_URL: forms may come from its host too (a proxy that does not pass the Host header on). */
	publicUrl: string;
}

const publicHosts = new WeakMap<Context, string>();

/** The signed-in session behind this request, if any (set by `loadSession`). */
export function sessionOf(ctx: Context): DashboardSession | undefined {
	return ctx.state.session as DashboardSession | undefined;
}

/** The session of a page behind `requireSession`. */
export function signedIn(ctx: Context): DashboardSession {
	const session = sessionOf(ctx);
	if (!session) throw new Error('signedIn() on a page without requireSession');
	return session;
}

export function loadSession(deps: WebDeps): Middleware {
	return async (ctx, next) => {
		const background = ctx.get('x-background-poll') === '1';
		ctx.state.session = deps.sessions.find(ctx.cookies.get(SESSION_COOKIE), deps.clock.now(), !background);
		publicHosts.set(ctx, new URL(deps.publicUrl).host);
		await next();
	};
}

export function setSessionCookie(ctx: Context, deps: WebDeps, value: string | null): void {
	const secure = deps.secureCookies || ctx.secure;
	ctx.cookies.secure = secure;
	ctx.cookies.set(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure, path: '/', overwrite: true });
}

/** Pages for the signed-in operator only: a GET goes to the sign-in page (and comes back), anything else is refused. */
export const requireSession: Middleware = async (ctx, next) => {
	if (sessionOf(ctx)) return next();
	if (ctx.method === 'GET' || ctx.method === 'HEAD') {
		ctx.redirect(`/login?next=${encodeURIComponent(ctx.originalUrl)}`);
		return;
	}
	throw new PageError(401, 'You are signed out. Sign in again with the operator token.');
};

const formFields = new WeakMap<Context, URLSearchParams>();

/** The submitted form (`application/x-www-form-urlencoded`), read once by `readForm`. */
export function formOf(ctx: Context): URLSearchParams {
	const form = formFields.get(ctx);
	if (!form) throw new Error('formOf() on a route without readForm');
	return form;
}

/** Reads a urlencoded form body (1 MB at most); 415 for anything else. */
export const readForm: Middleware = async (ctx, next) => {
	if (!ctx.is('application/x-www-form-urlencoded'))
		throw new PageError(415, 'Forms are sent as application/x-www-form-urlencoded.');
	formFields.set(ctx, new URLSearchParams(await readTextBody(ctx, MAX_FORM_BYTES)));
	await next();
};

const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Whether a browser's Origin header names this gateway's host (scheme aside: behind a TLS proxy the
 * gateway itself sees http). No Origin (an older browser) leaves the decision to the token.
 */
function sameHost(origin: string, hosts: Array<string | undefined>): boolean {
	if (origin === '') return true;
	try {
		return hosts.includes(new URL(origin).host);
	} catch {
		return false;
	}
}

/**
 * CSRF on every form: the session's token must come back in `_csrf`, and a browser's Origin (when it
 * sends one) must be this gateway (the Host it was reached by, or GATEWAY_PUBLIC_URL's host). The SameSite=Strict cookie already keeps other sites' forms out;
 * this holds even for a browser that ignores SameSite.
 */
export const checkCsrf: Middleware = async (ctx, next) => {
	const session = signedIn(ctx);
	const fromElsewhere = !sameHost(ctx.get('origin'), [ctx.host, publicHosts.get(ctx)]);
	if (fromElsewhere || !sameToken(formOf(ctx).get('_csrf') ?? '', session.csrf)) throw new PageError(403, CSRF_MESSAGE);
	await next();
};

/** A signed-in form post: session, form body, CSRF, in that order. */
export const formPost: Middleware[] = [requireSession, readForm, checkCsrf];

/** After an action: a message for the next page, then back to a page (post/redirect/get). */
export function redirectWith(ctx: Context, to: string, flash: Flash): void {
	signedIn(ctx).flash = flash;
	ctx.redirect(to);
}
