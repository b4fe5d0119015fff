import type Router from '@koa/router';
import { html } from '../web/html';
import { PageError, sendPage } from '../web/page';
import { formOf, formPost, readForm, sessionOf, setSessionCookie } from './auth';
import type { DashboardDeps } from './context';
import { plainPage } from './layout';
import { loginThrottle } from './sessions';

/** Only paths of this gateway are followed after sign-in (never `//elsewhere` or a full URL). */
export function safeNext(next: unknown): string {
	return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/dashboard';
}

function loginPage(next: string, error?: string) {
	return plainPage(
		'Sign in',
		html`${error && html`<div class="flash flash-error" role="alert"><p>${error}</p></div>`}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="next" value="${next}">
  <label for="token">Operator token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <p class="hint">The value of <code>GATEWAY_ADMIN_TOKEN</code>, or the operator token the gateway printed once at its first start.</p>
  <button type="submit" class="button primary">Sign in</button>
</form>`,
	);
}

/**
 * `GET/POST /login` and `POST /logout`. The operator token buys a session cookie (HttpOnly,
 * SameSite=Strict, Secure behind TLS); the token itself is never stored in the browser. Five wrong
 * tokens within 15 minutes lock that address out until the oldest leaves the window (429 + Retry-After).
 */
export function loginRoutes(router: Router, deps: DashboardDeps): void {
	const throttle = loginThrottle();
	router.get('/login', (ctx) => {
		if (sessionOf(ctx)) return ctx.redirect(safeNext(ctx.query.next));
		sendPage(ctx, loginPage(safeNext(ctx.query.next)));
	});
	router.post('/login', readForm, (ctx) => {
		const now = deps.clock.now();
		const retryInMs = throttle.waitMs(ctx.ip, now);
		if (retryInMs > 0) {
			const seconds = Math.ceil(retryInMs / 1000);
			throw new PageError(
				429,
				`Too many wrong tokens from this address. Try again in ${Math.ceil(seconds / 60)} minutes.`,
				{
					'Retry-After': String(seconds),
				},
			);
		}
		const form = formOf(ctx);
		const next = safeNext(form.get('next'));
		if (!deps.isOperator(form.get('token') ?? undefined)) {
			throttle.record(ctx.ip, now);
			deps.logger.warn({ ip: ctx.ip }, 'dashboard sign-in with a wrong operator token');
			sendPage(ctx, loginPage(next, 'That is not the operator token.'), 401);
			return;
		}
		const previous = sessionOf(ctx);
		if (previous) deps.sessions.destroy(previous.id);
		const session = deps.sessions.create(now);
		setSessionCookie(ctx, deps, session.id);
		deps.logger.info({ ip: ctx.ip }, 'dashboard sign-in');
		ctx.redirect(next);
	});
	router.post('/logout', ...formPost, (ctx) => {
		const session = sessionOf(ctx);
		if (session) deps.sessions.destroy(session.id);
		setSessionCookie(ctx, deps, null);
		ctx.redirect('/login');
	});
}
