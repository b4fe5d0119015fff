import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

describe('dashboard accounts', () => {
	let gw: TestGateway;
	let client: DashboardClient;
	beforeEach(async () => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN, account: { name: 'Clinic <script>alert(1)</script>' } });
		client = await signIn(gw);
	});
	afterEach(() => gw.close());

	const form = (overrides: Record<string, string> = {}) => ({
		name: 'Clinic',
		plan: 'growth',
		plan_active: 'on',
		daily_limit: '',
		monthly_limit: '',
		time_zone: 'Asia/Riyadh',
		default_country: 'SA',
		api_access: 'plan',
		threecx: 'off',
		...overrides,
	});

	it('lists accounts with plan, limits, modules, time zone and usage, escaping names', async () => {
		const page = await client.get('/accounts');
		expect(page.status).toBe(200);
		expect(page.text).toContain('Clinic &lt;script&gt;alert(1)&lt;/script&gt;');
		expect(page.text).not.toContain('<script>alert(1)');
		expect(page.text).toMatch(/Starter[\s\S]*100 \/ 2000[\s\S]*UTC[\s\S]*0 \/ 0/);
	});

	it('saves plan, custom limits, modules and time zone through the account service', async () => {
		const res = await client.post(`/accounts/${gw.accountId}`, form({ daily_limit: '250' }));
		expect(res.status).toBe(302);
		const account = gw.gateway.accounts.get(gw.accountId);
		expect(account).toMatchObject({
			name: 'Clinic',
			planActive: true,
			timeZone: 'Asia/Riyadh',
			defaultCountry: 'SA',
			limits: { daily: 250, monthly: 10_000, custom: true },
			modules: { apiAccess: true, threecx: false },
		});
		expect(account.plan.name).toBe('growth');
		const page = await client.get(res.headers.location);
		expect(page.text).toContain('Saved Clinic.');
		expect(page.text).toContain('value="250"');
		expect(page.text).toMatch(/<option value="off" selected>/);
	});

	it('a bad time zone or limit is refused on the form with the reason, and nothing changes', async () => {
		for (const [field, value, reason] of [
			['time_zone', 'Mars/Olympus', 'time zone &quot;Mars/Olympus&quot; is not an IANA time zone'],
			['daily_limit', 'lots', 'daily limit must be a whole number from 0 to 9007199254740991'],
			['monthly_limit', '100000000000000000000', 'monthly limit must be a whole number from 0 to 9007199254740991'],
		]) {
			const res = await client.post(`/accounts/${gw.accountId}`, form({ [field]: value }));
			expect(res.status).toBe(422);
			expect(res.text).toContain(`Not saved: ${reason}.`);
			expect(res.text).toContain(`value="${value}"`);
		}
		expect(gw.gateway.accounts.get(gw.accountId)).toMatchObject({ timeZone: 'UTC', plan: { name: 'starter' } });
	});

	it('an unknown account is a 404 page; the form without its CSRF token is refused', async () => {
		expect((await client.get('/accounts/42')).status).toBe(404);
		const forged = await client.post(`/accounts/${gw.accountId}`, { ...form(), _csrf: 'forged' });
		expect(forged.status).toBe(403);
		expect(gw.gateway.accounts.get(gw.accountId).plan.name).toBe('starter');
	});

	it('saving the form untouched keeps overrides that equal the plan (a reviewed limit stays reviewed)', async () => {
		gw.gateway.accounts.update(gw.accountId, { dailyLimit: 100, apiAccess: true });
		const stored = () =>
			gw.gateway.db
				.prepare('SELECT daily_limit, monthly_limit, api_access_enabled FROM accounts WHERE id = ?')
				.get(gw.accountId);
		expect(stored()).toEqual({ daily_limit: 100, monthly_limit: null, api_access_enabled: 1 });
		const page = await client.get(`/accounts/${gw.accountId}`);
		const shown = Object.fromEntries(
			[...page.text.matchAll(/name="was_(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]),
		);
		expect(shown).toEqual({ daily_limit: '', monthly_limit: '', api_access: 'plan', threecx: 'plan' });
		const untouched = Object.fromEntries(
			Object.entries(shown).flatMap(([name, value]) => [
				[name, value],
				[`was_${name}`, value],
			]),
		);
		const res = await client.post(
			`/accounts/${gw.accountId}`,
			form({ plan: 'starter', time_zone: 'UTC', ...untouched }),
		);
		expect(res.status).toBe(302);
		expect(stored()).toEqual({ daily_limit: 100, monthly_limit: null, api_access_enabled: 1 });
		// Changing a field still takes effect.
		await client.post(
			`/accounts/${gw.accountId}`,
			form({ plan: 'starter', time_zone: 'UTC', ...untouched, daily_limit: '80' }),
		);
		expect(stored()).toMatchObject({ daily_limit: 80 });
	});
});
