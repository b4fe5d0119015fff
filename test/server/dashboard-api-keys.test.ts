import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { createTestGateway, type TestGateway } from '../helpers/gateway';

describe('dashboard API keys', () => {
  let gw: TestGateway;
  let client: DashboardClient;
  beforeEach(async () => {
    gw = createTestGateway({ adminToken: ADMIN_TOKEN });
    client = await signIn(gw);
  });
  afterEach(() => gw.close());

  const me = (key: string) => gw.http.get('/api/me').set('Authorization', `Bearer ${key}`);

  it('creates a key and shows it once, with a copy button; the list shows only its prefix', async () => {
    const created = await client.post(`/api-keys?account=${gw.accountId}`, { name: 'n8n <prod>' });
    expect(created.status).toBe(302);
    const first = await client.get(created.headers.location);
    const key = /<code id="shown-secret">([^<]+)<\/code>/.exec(first.text)?.[1];
    expect(key).toBeDefined();
    expect(first.text).toContain('data-copy="#shown-secret"');
    expect(first.text).toContain('n8n &lt;prod&gt;');
    expect((await me(key as string)).body.api_key.name).toBe('n8n <prod>');

    const again = await client.get(created.headers.location);
    expect(again.text).not.toContain(key as string);
    expect(again.text).toContain(`${(key as string).slice(0, 8)}`);
  });

  it('shows when a key was last used; a revoked key is refused from the next request', async () => {
    expect((await me(gw.apiKey)).status).toBe(200);
    const [info] = gw.gateway.accounts.listKeys(gw.accountId);
    const page = await client.get('/api-keys');
    expect(page.text).toMatch(/data-label="Name"><span class="cell">test<\/span><\/td>[\s\S]*data-label="Created"><span class="cell"><time[^>]*>2026-05-08 10:00<\/time><\/span><\/td><td data-label="Last used"><span class="cell"><time[^>]*>2026-05-08 10:00<\/time>/);
    expect(page.text).toContain('data-confirm="Revoke the key test');

    const revoked = await client.post(`/api-keys/${info.id}/revoke?account=${gw.accountId}`);
    expect(revoked.status).toBe(302);
    const after = await me(gw.apiKey);
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('revoked_api_key');
    expect((await client.get('/api-keys')).text).toContain('<span class="badge bad">revoked</span>');
  });

  it('refuses a nameless key, another account\'s key, and every action without the CSRF token', async () => {
    expect((await client.post('/api-keys', { name: ' ' })).status).toBe(422);
    const other = gw.gateway.accounts.create({ name: 'Other' });
    const otherKey = gw.gateway.accounts.createKey(other.id, 'theirs');
    expect((await client.post(`/api-keys/${otherKey.info.id}/revoke?account=${gw.accountId}`)).status).toBe(404);
    expect((await me(otherKey.key)).status).toBe(200);

    const [info] = gw.gateway.accounts.listKeys(gw.accountId);
    for (const [path, fields] of [['/api-keys', { name: 'x' }], [`/api-keys/${info.id}/revoke`, {}]] as const) {
      const res = await client.post(path, { ...fields, _csrf: 'forged' });
      expect(res.status).toBe(403);
    }
    expect(gw.gateway.accounts.listKeys(gw.accountId)).toHaveLength(1);
    expect((await me(gw.apiKey)).status).toBe(200);
  });
});
