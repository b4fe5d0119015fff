import Router from '@koa/router';
import { html } from '../web/html';
import { htmlErrors, pageHeaders } from '../web/page';
import { loadSession, sessionOf } from './auth';
import type { DashboardDeps } from './context';
import { dashboardPage, plainPage } from './layout';
import { accountsRoutes } from './accounts';
import { apiKeysRoutes } from './api-keys';
import { inboundLogsRoutes } from './inbound-logs';
import { instanceRoutes } from './instances';
import { loginRoutes } from './login';
import { messagesRoutes } from './messages';
import { overviewRoutes } from './overview';
import { suppressionsRoutes } from './suppressions';
import { threecxRoutes } from './threecx';

export type { DashboardDeps } from './context';

/** A module of dashboard pages: registers its routes on the dashboard's router. */
export type DashboardPages = (router: Router, deps: DashboardDeps) => void;

/** Every section of the dashboard, in one place. */
const PAGES: DashboardPages[] = [
	loginRoutes,
	overviewRoutes,
	accountsRoutes,
	apiKeysRoutes,
	instanceRoutes,
	messagesRoutes,
	suppressionsRoutes,
	inboundLogsRoutes,
	threecxRoutes,
];

/**
 * The operator dashboard: server-rendered pages behind a session cookie. Failures render as HTML pages
 * (inside the dashboard when signed in); every page gets the security headers.
 */
export function dashboardRoutes(deps: DashboardDeps): Router {
	const router = new Router();
	router.use(pageHeaders);
	router.use(
		htmlErrors(deps.logger, (ctx, status, message) => {
			const body = html`<div class="flash flash-error" role="alert"><p>${message}</p></div>
<p><a href="/dashboard" data-back>Go back</a></p>`;
			return sessionOf(ctx)
				? dashboardPage(ctx, deps.sessions, { title: `${status}: that did not work`, section: '/dashboard', body })
				: plainPage(`${status}: that did not work`, html`${body}<p><a href="/login">Sign in</a></p>`);
		}),
	);
	router.use(loadSession(deps));
	for (const pages of PAGES) pages(router, deps);
	return router;
}
