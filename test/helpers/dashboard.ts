import type request from 'supertest';
import { createTestGateway, type TestGateway } from './gateway';

export const ADMIN_TOKEN = 'operator-token-for-tests';

/** A signed-in dashboard browser over supertest: its session cookie and CSRF token. */
export interface DashboardClient {
	cookie: string;
	csrf: string;
	get(path: string): request.Test;
	/** Posts a form with the session's CSRF token (unless the fields give their own `_csrf`). */
	post(path: string, fields?: Record<string, string | string[]>): request.Test;
}

export function formBody(fields: Record<string, string | string[]>): string {
	const form = new URLSearchParams();
	for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) form.append(name, one);
	return form.toString();
}

/** Signs in with the operator token (the gateway must be created with `adminToken: ADMIN_TOKEN`). */
export async function signIn(gw: TestGateway, token = ADMIN_TOKEN): Promise<DashboardClient> {
	const login = await gw.http
		.post('/login')
		.type('form')
		.send(formBody({ token, next: '/dashboard' }));
	if (login.status !== 302) throw new Error(`sign-in answered ${login.status}`);
	const cookie = String((login.headers['set-cookie'] as unknown as string[])[0]).split(';')[0];

	const csrf = csrfOf(gw, cookie);
	return {
		cookie,
		csrf,
		get: (path) => gw.http.get(path).set('Cookie', cookie),
		post: (path, fields = {}) =>
			gw.http
				.post(path)
				.set('Cookie', cookie)
				.type('form')
				.send(formBody({ _csrf: csrf, ...fields })),
	};
}

/** The CSRF token of the session a cookie names (read from the gateway's session store, as a page would print it). */
function csrfOf(gw: TestGateway, cookie: string): string {
	const id = cookie.split('=')[1];
	const session = gw.gateway.dashboardSessions.find(id, gw.clock.now());
	if (!session) throw new Error('no session behind the cookie');
	return session.csrf;
}

/** A test gateway and a signed-in dashboard client, made anew before each test of the suite and closed after it. */
export function signedInSuite(): { gw: TestGateway; client: DashboardClient } {
	const suite = {} as { gw: TestGateway; client: DashboardClient };
	beforeEach(async () => {
		suite.gw = createTestGateway({ adminToken: ADMIN_TOKEN });
		suite.client = await signIn(suite.gw);
	});
	afterEach(() => suite.gw.close());
	return suite;
}
