import { createTestGateway, type TestGateway } from '../helpers/gateway';
import { ADMIN_TOKEN, formBody, signIn } from '../helpers/dashboard';
import { IDLE_MS, LOGIN_WINDOW_MS, loginThrottle, MAX_ADDRESSES } from '../../server/src/dashboard/sessions';

describe('dashboard sign-in, session cookie and CSRF', () => {
	let gw: TestGateway;
	beforeEach(() => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN });
	});
	afterEach(() => gw.close());

	const login = (token: string, next = '/dashboard') =>
		gw.http.post('/login').type('form').send(formBody({ token, next }));

	it('shows a sign-in page with the security headers and no inline script', async () => {
		const res = await gw.http.get('/login');
		expect(res.status).toBe(200);
		expect(res.type).toBe('text/html');
		expect(res.text).toContain('name="token"');
		expect(res.headers['content-security-policy']).toContain("script-src 'self'");
		expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
		expect(res.headers['x-frame-options']).toBe('DENY');
		expect(res.headers['x-content-type-options']).toBe('nosniff');
		expect(res.headers['cache-control']).toBe('no-store');
		expect(res.text).not.toMatch(/<script>(?!<\/script>)|onclick=|javascript:/);
	});

	it('sends a signed-out browser to the sign-in page and back', async () => {
		const res = await gw.http.post('/logout').type('form').send('');
		expect(res.status).toBe(401);
		expect(res.type).toBe('text/html');
		expect(res.text).toContain('You are signed out');
	});

	it('a wrong token is refused with a page; the right one sets an HttpOnly, SameSite=Strict cookie and follows next', async () => {
		const wrong = await login('not-the-token');
		expect(wrong.status).toBe(401);
		expect(wrong.text).toContain('That is not the operator token.');
		expect(wrong.headers['set-cookie']).toBeUndefined();

		const right = await login(ADMIN_TOKEN, '/api-keys?account=1');
		expect(right.status).toBe(302);
		expect(right.headers.location).toBe('/api-keys?account=1');
		const cookie = String((right.headers['set-cookie'] as unknown as string[])[0]);
		expect(cookie).toMatch(/^wg_dashboard=[\w-]{43};/);
		expect(cookie).toMatch(/httponly/i);
		expect(cookie).toMatch(/samesite=strict/i);
		expect(cookie).not.toMatch(/secure/i);
		expect(cookie).not.toContain(ADMIN_TOKEN);
	});

	it('never follows next to another site', async () => {
		for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
			const res = await login(ADMIN_TOKEN, next);
			expect(res.headers.location).toBe('/dashboard');
		}
	});

	it('marks the cookie Secure when the gateway is reached over https', async () => {
		const { Gateway } = await import('../../server/src/gateway');
		const tls = new Gateway({
			databasePath: ':memory:',
			clock: gw.clock,
			adminToken: ADMIN_TOKEN,
			providers: { publicUrl: 'https://gw.example' },
		});
		const supertest = (await import('supertest')).default;
		const res = await supertest(tls.createApp().callback())
			.post('/login')
			.type('form')
			.send(formBody({ token: ADMIN_TOKEN }));
		expect(String((res.headers['set-cookie'] as unknown as string[])[0])).toMatch(/; secure/i);
		tls.close();
	});

	it('locks an address out after five wrong tokens in 15 minutes, the right token included, then lets it in again', async () => {
		for (let i = 0; i < 5; i += 1) expect((await login(`wrong-${i}`)).status).toBe(401);
		const locked = await login(ADMIN_TOKEN);
		expect(locked.status).toBe(429);
		expect(Number(locked.headers['retry-after'])).toBe(LOGIN_WINDOW_MS / 1000);
		expect(locked.text).toContain('Too many wrong tokens');
		gw.clock.advance(LOGIN_WINDOW_MS);
		expect((await login(ADMIN_TOKEN)).status).toBe(302);
	});

	it('refuses a form without the session CSRF token, or from another origin; accepts it with both', async () => {
		const client = await signIn(gw);
		const missing = await client.post('/logout', { _csrf: '' });
		expect(missing.status).toBe(403);
		expect(missing.text).toContain('This form has expired');
		const otherOrigin = await client.post('/logout').set('Origin', 'https://evil.example');
		expect(otherOrigin.status).toBe(403);
		const ok = await client.post('/logout');
		expect(ok.status).toBe(302);
		expect(ok.headers.location).toBe('/login');
		expect(String((ok.headers['set-cookie'] as unknown as string[])[0])).toMatch(/^wg_dashboard=;/);
		// The session is gone on the server: the old cookie no longer signs anything.
		expect((await client.post('/logout')).status).toBe(401);
	});

	it('ends a session after 8 idle hours', async () => {
		const client = await signIn(gw);
		gw.clock.advance(IDLE_MS + 1);
		expect((await client.post('/logout')).status).toBe(401);
	});

	it('leaves the JSON API as it was: unknown paths are JSON 404s', async () => {
		const res = await gw.http.get('/no-such-page');
		expect(res.status).toBe(404);
		expect(res.body).toMatchObject({ success: false, error: 'not_found' });
	});

	it("serves the pages' stylesheet and script with an ETag, and 304 when unchanged", async () => {
		const css = await gw.http.get('/assets/gateway.css');
		expect(css.status).toBe(200);
		expect(css.type).toBe('text/css');
		expect(css.headers.etag).toBeDefined();
		const again = await gw.http.get('/assets/gateway.css').set('If-None-Match', css.headers.etag);
		expect(again.status).toBe(304);
		expect((await gw.http.get('/assets/gateway.js')).type).toBe('text/javascript');
		expect((await gw.http.get('/assets/..%2Fpackage.json')).status).toBe(404);
	});

	it('behind a trusted proxy, throttles each client by the hop the proxy added, not the proxy itself', async () => {
		const { Gateway } = await import('../../server/src/gateway');
		const supertest = (await import('supertest')).default;
		const proxied = new Gateway({
			databasePath: ':memory:',
			clock: gw.clock,
			adminToken: ADMIN_TOKEN,
			trustProxy: true,
		});
		const app = supertest(proxied.createApp().callback());
		// The client may send its own X-Forwarded-For; the proxy appends the address it saw.
		const from = (client: string, token: string) =>
			app.post('/login').set('X-Forwarded-For', `10.9.9.9, ${client}`).type('form').send(formBody({ token }));
		for (let i = 0; i < 5; i += 1) expect((await from('203.0.113.7', 'wrong')).status).toBe(401);
		expect((await from('203.0.113.7', ADMIN_TOKEN)).status).toBe(429);
		expect((await from('198.51.100.4', ADMIN_TOKEN)).status).toBe(302);
		proxied.close();
	});

	it('accepts forms whose Origin is GATEWAY_PUBLIC_URL even when the proxy passed another Host', async () => {
		const { Gateway } = await import('../../server/src/gateway');
		const supertest = (await import('supertest')).default;
		const proxied = new Gateway({
			databasePath: ':memory:',
			clock: gw.clock,
			adminToken: ADMIN_TOKEN,
			providers: { publicUrl: 'https://gw.example.com' },
		});
		const app = supertest(proxied.createApp().callback());
		const login = await app
			.post('/login')
			.type('form')
			.send(formBody({ token: ADMIN_TOKEN }));
		const cookie = String((login.headers['set-cookie'] as unknown as string[])[0]).split(';')[0];
		const csrf = proxied.dashboardSessions.find(cookie.split('=')[1], gw.clock.now())!.csrf;
		const logout = (origin: string) =>
			app
				.post('/logout')
				.set({ Cookie: cookie, Origin: origin, Host: '127.0.0.1:3000' })
				.type('form')
				.send(formBody({ _csrf: csrf }));
		expect((await logout('https://elsewhere.example.com')).status).toBe(403);
		expect((await logout('https://gw.example.com')).status).toBe(302);
		proxied.close();
	});

	it('keeps at most MAX_ADDRESSES addresses on record, however many guess', () => {
		const throttle = loginThrottle();
		const now = gw.clock.now();
		for (let i = 0; i < MAX_ADDRESSES * 2; i += 1) throttle.record(`2001:db8::${i.toString(16)}`, now);
		expect(throttle.size).toBeLessThanOrEqual(MAX_ADDRESSES);
		// The most recent guessers are still counted.
		const last = `2001:db8::${(MAX_ADDRESSES * 2 - 1).toString(16)}`;
		for (let i = 0; i < 4; i += 1) throttle.record(last, now);
		expect(throttle.waitMs(last, now)).toBe(LOGIN_WINDOW_MS);
	});

	it('a page polling in the background does not keep the session alive', async () => {
		const client = await signIn(gw);
		const poll = () =>
			client.get(`/instances/${gw.instanceId}/connection?account=${gw.accountId}`).set('X-Background-Poll', '1');
		gw.clock.advance(IDLE_MS - 60_000);
		expect((await poll()).status).toBe(200);
		gw.clock.advance(120_000);
		// Eight idle hours have passed: the polling did not count, the operator is signed out.
		expect((await poll()).status).toBe(302);
		expect((await client.post('/logout')).status).toBe(401);
	});
});
