import { signedInSuite } from '../helpers/dashboard';

describe('dashboard API keys', () => {
	const suite = signedInSuite();

	const me = (key: string) => suite.gw.http.get('/api/me').set('Authorization', `Bearer ${key}`);

	it('creates a key and shows it once, with a copy button; the list shows only its prefix', async () => {
		const created = await suite.client.post(`/api-keys?account=${suite.gw.accountId}`, { name: 'n8n <prod>' });
		expect(created.status).toBe(302);
		const first = await suite.client.get(created.headers.location);
		const key = /<code id="shown-secret">([^<]+)<\/code>/.exec(first.text)?.[1];
		expect(key).toBeDefined();
		expect(first.text).toContain('data-copy="#shown-secret"');
		expect(first.text).toContain('n8n &lt;prod&gt;');
		expect((await me(key as string)).body.api_key.name).toBe('n8n <prod>');

		const again = await suite.client.get(created.headers.location);
		expect(again.text).not.toContain(key as string);
		expect(again.text).toContain(`${(key as string).slice(0, 8)}`);
	});

	it('shows when a key was last used; a revoked key is refused from the next request', async () => {
		expect((await me(suite.gw.apiKey)).status).toBe(200);
		const [info] = suite.gw.gateway.accounts.listKeys(suite.gw.accountId);
		const page = await suite.client.get('/api-keys');
		expect(page.text).toMatch(
			/data-label="Name"><span class="cell">test<\/span><\/td>[\s\S]*data-label="Created"><span class="cell"><time[^>]*>2026-05-08 10:00<\/time><\/span><\/td><td data-label="Last used"><span class="cell"><time[^>]*>2026-05-08 10:00<\/time>/,
		);
		expect(page.text).toContain('data-confirm="Revoke the key test');

		const revoked = await suite.client.post(`/api-keys/${info.id}/revoke?account=${suite.gw.accountId}`);
		expect(revoked.status).toBe(302);
		const after = await me(suite.gw.apiKey);
		expect(after.status).toBe(401);
		expect(after.body.error).toBe('revoked_api_key');
		expect((await suite.client.get('/api-keys')).text).toContain('<span class="badge bad">revoked</span>');
	});

	it("refuses a nameless key, another account's key, and every action without the CSRF token", async () => {
		expect((await suite.client.post('/api-keys', { name: ' ' })).status).toBe(422);
		const other = suite.gw.gateway.accounts.create({ name: 'Other' });
		const otherKey = suite.gw.gateway.accounts.createKey(other.id, 'theirs');
		expect((await suite.client.post(`/api-keys/${otherKey.info.id}/revoke?account=${suite.gw.accountId}`)).status).toBe(
			404,
		);
		expect((await me(otherKey.key)).status).toBe(200);

		const [info] = suite.gw.gateway.accounts.listKeys(suite.gw.accountId);
		for (const [path, fields] of [
			['/api-keys', { name: 'x' }],
			[`/api-keys/${info.id}/revoke`, {}],
		] as const) {
			const res = await suite.client.post(path, { ...fields, _csrf: 'forged' });
			expect(res.status).toBe(403);
		}
		expect(suite.gw.gateway.accounts.listKeys(suite.gw.accountId)).toHaveLength(1);
		expect((await me(suite.gw.apiKey)).status).toBe(200);
	});
});
