import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Gateway } from '../../server/src/gateway';
import { cli, tempDir } from '../helpers/cli';
import { listen } from '../helpers/gateway';

const execFileAsync = promisify(execFile);
let dir: string;
beforeEach(() => {
  dir = tempDir('wg-cli-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('whatsapp-gateway CLI', () => {
  it('accounts create|list|update print one JSON document with --json', async () => {
    const created = await cli(dir, 'accounts', 'create', '--name', 'Clinic', '--plan', 'growth', '--time-zone', 'Asia/Riyadh', '--country', 'sa', '--json');
    expect(created.code).toBe(0);
    expect(created.stderr).toBe('');
    expect(created.json()).toMatchObject({
      id: 1,
      name: 'Clinic',
      plan: 'growth',
      time_zone: 'Asia/Riyadh',
      default_country: 'SA',
      limits: { daily: 500, monthly: 10000, custom: false },
    });
    const updated = await cli(dir, 'accounts', 'update', '1', '--daily-limit', '750', '--api-access', 'off', '--inactive', '--json');
    expect(updated.json()).toMatchObject({ plan_active: false, limits: { daily: 750, custom: true }, modules: { api_access: false } });
    const reset = await cli(dir, 'accounts', 'update', '1', '--daily-limit', 'plan', '--api-access', 'plan', '--active', '--json');
    expect(reset.json()).toMatchObject({ plan_active: true, limits: { daily: 500, custom: false }, modules: { api_access: true } });
    const list = await cli(dir, 'accounts', 'list', '--json');
    expect(list.json()).toEqual([expect.objectContaining({ id: 1, name: 'Clinic' })]);
    const human = await cli(dir, 'accounts', 'list');
    expect(human.stdout).toMatch(/^id\s+name\s+plan/);
  });

  it('keys create shows the key once; list shows prefixes; revoke takes effect on the running gateway', async () => {
    await cli(dir, 'accounts', 'create', '--name', 'Shop');
    await cli(dir, 'instances', 'create', '--account', '1', '--name', 'shop-line', '--json');
    const created = (await cli(dir, 'keys', 'create', '--account', '1', '--name', 'crm', '--json')).json() as { id: number; key: string; prefix: string };
    expect(created.key).toMatch(/^wg_live_[0-9A-Za-z]{40}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const listed = await cli(dir, 'keys', 'list', '--json');
    expect(listed.stdout).not.toContain(created.key);
    expect(listed.json()).toEqual([expect.objectContaining({ id: created.id, name: 'crm', revoked_at: null })]);

    // The gateway is running (another connection to the same database) while the CLI revokes.
    const gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db') });
    const server = await listen(gateway.createApp().callback());
    try {
      const me = () => fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${created.key}` } });
      expect((await me()).status).toBe(200);
      const revoked = await cli(dir, 'keys', 'revoke', String(created.id), '--json');
      expect(revoked.json()).toMatchObject({ id: created.id, revoked_at: expect.any(String) });
      const after = await me();
      expect(after.status).toBe(401);
      expect(await after.json()).toMatchObject({ error: 'revoked_api_key' });
    } finally {
      await server.close();
      gateway.close();
    }
  });

  it('instances create|list|pause|resume', async () => {
    await cli(dir, 'accounts', 'create', '--name', 'Shop');
    const created = (await cli(dir, 'instances', 'create', '--account', '1', '--name', 'support-line', '--display-name', 'Support', '--json')).json() as { id: string };
    expect(created).toMatchObject({ name: 'support-line', display_name: 'Support', provider: 'sandbox', paused: false });
    const paused = await cli(dir, 'instances', 'pause', 'support-line', '--reason', 'complaints', '--json');
    expect(paused.json()).toMatchObject({ id: created.id, paused: true, paused_reason: 'complaints' });
    const resumed = await cli(dir, 'instances', 'resume', created.id, '--json');
    expect(resumed.json()).toMatchObject({ paused: false, paused_reason: null });
    expect((await cli(dir, 'instances', 'list', '--account', '1', '--json')).json()).toHaveLength(1);
    const duplicate = await cli(dir, 'instances', 'create', '--account', '1', '--name', 'support-line');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toBe('whatsapp-gateway: account 1 already has an instance named "support-line"\n');
  });

  it('suppressions add|list|remove normalize the phone', async () => {
    await cli(dir, 'accounts', 'create', '--name', 'Shop', '--country', 'SA');
    const added = await cli(dir, 'suppressions', 'add', '--account', '1', '--phone', '050 123 4567', '--reason', 'asked by phone', '--json');
    expect(added.json()).toMatchObject({ phone: '+966501234567', source: 'manual', reason: 'asked by phone' });
    expect((await cli(dir, 'suppressions', 'list', '--account', '1', '--json')).json()).toEqual([expect.objectContaining({ phone: '+966501234567' })]);
    expect((await cli(dir, 'suppressions', 'remove', '--account', '1', '--phone', '+966501234567', '--json')).json()).toMatchObject({ removed: true });
    const again = await cli(dir, 'suppressions', 'remove', '--account', '1', '--phone', '+966501234567');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not suppressed/);
  });

  it('bad input exits non-zero with a one-line reason on stderr and nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [['accounts', 'create', '--name', 'X', '--plan', 'gold'], /plan must be one of starter, growth, scale/],
      [['accounts', 'create', '--name', 'X', '--time-zone', 'Mars/Olympus'], /not an IANA time zone/],
      [['accounts', 'update', '7', '--plan', 'scale'], /account 7 does not exist/],
      [['keys', 'create', '--account', '9'], /account 9 does not exist/],
      [['suppressions', 'add', '--account', '1', '--phone', 'abc'], /not a valid phone number|account 1 does not exist/],
    ];
    for (const [argv, reason] of cases) {
      const run = await cli(dir, ...argv, '--json');
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(reason);
    }
    const usage = await cli(dir, 'accounts', 'create');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/required option '--name <name>'/);
  });

  it('a bad environment variable is named in the error', async () => {
    let stderr = '';
    const { runCli } = await import('../../server/src/cli/program');
    const { code } = await runCli(['accounts', 'list'], {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: { GATEWAY_DATA_DIR: dir, GATEWAY_TIME_ZONE: 'Nowhere/Land' },
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/GATEWAY_TIME_ZONE must be an IANA time zone/);
  });

  it('the built bin prints JSON and exits 0 (npx whatsapp-gateway from the root)', async () => {
    const bin = path.resolve(__dirname, '../../server/bin/whatsapp-gateway.js');
    const { stdout } = await execFileAsync(bin, ['accounts', 'create', '--name', 'Bin test', '--json'], {
      env: { ...process.env, GATEWAY_DATA_DIR: dir },
    });
    expect(JSON.parse(stdout)).toMatchObject({ id: 1, name: 'Bin test' });
    const failed = await execFileAsync(bin, ['keys', 'revoke', '42'], { env: { ...process.env, GATEWAY_DATA_DIR: dir } }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1, stderr: 'whatsapp-gateway: API key 42 does not exist\n' });
  });
});
