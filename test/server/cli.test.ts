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
		const created = await cli(
			dir,
			'accounts',
			'create',
			'--name',
			'Clinic',
			'--plan',
			'growth',
			'--time-zone',
			'Asia/Riyadh',
			'--country',
			'sa',
			'--json',
		);
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
		const updated = await cli(
			dir,
			'accounts',
			'update',
			'1',
			'--daily-limit',
			'750',
			'--api-access',
			'off',
			'--inactive',
			'--json',
		);
		expect(updated.json()).toMatchObject({
			plan_active: false,
			limits: { daily: 750, custom: true },
			modules: { api_access: false },
		});
		const reset = await cli(
			dir,
			'accounts',
			'update',
			'1',
			'--daily-limit',
			'plan',
			'--api-access',
			'plan',
			'--active',
			'--json',
		);
		expect(reset.json()).toMatchObject({
			plan_active: true,
			limits: { daily: 500, custom: false },
			modules: { api_access: true },
		});
		const list = await cli(dir, 'accounts', 'list', '--json');
		expect(list.json()).toEqual([expect.objectContaining({ id: 1, name: 'Clinic' })]);
		const human = await cli(dir, 'accounts', 'list');
		expect(human.stdout).toMatch(/^id\s+name\s+plan/);
	});

	it('keys create shows the key once; list shows prefixes; revoke takes effect on the running gateway', async () => {
		await cli(dir, 'accounts', 'create', '--name', 'Shop');
		await cli(dir, 'instances', 'create', '--account', '1', '--name', 'shop-line', '--json');
		const created = (await cli(dir, 'keys', 'create', '--account', '1', '--name', 'crm', '--json')).json() as {
			id: number;
			key: string;
			prefix: string;
		};
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
		const created = (
			await cli(
				dir,
				'instances',
				'create',
				'--account',
				'1',
				'--name',
				'support-line',
				'--display-name',
				'Support',
				'--json',
			)
		).json() as { id: string };
		expect(created).toMatchObject({
			name: 'support-line',
			display_name: 'Support',
			provider: 'sandbox',
			paused: false,
		});
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
		const added = await cli(
			dir,
			'suppressions',
			'add',
			'--account',
			'1',
			'--phone',
			'050 123 4567',
			'--reason',
			'asked by phone',
			'--json',
		);
		expect(added.json()).toMatchObject({ phone: '+966501234567', source: 'manual', reason: 'asked by phone' });
		expect((await cli(dir, 'suppressions', 'list', '--account', '1', '--json')).json()).toEqual([
			expect.objectContaining({ phone: '+966501234567' }),
		]);
		expect(
			(await cli(dir, 'suppressions', 'remove', '--account', '1', '--phone', '+966501234567', '--json')).json(),
		).toMatchObject({ removed: true });
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
			[
				['suppressions', 'add', '--account', '1', '--phone', 'abc'],
				/not a valid phone number|account 1 does not exist/,
			],
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
		const failed = await execFileAsync(bin, ['keys', 'revoke', '42'], {
			env: { ...process.env, GATEWAY_DATA_DIR: dir },
		}).catch((error: { code: number; stderr: string }) => error);
		expect(failed).toMatchObject({ code: 1, stderr: 'whatsapp-gateway: API key 42 does not exist\n' });
	});
});

describe('events from the CLI', () => {
	it('webhooks create|list|disable|enable|delete, sandbox inbound, deliveries list|redeliver', async () => {
		await cli(dir, 'accounts', 'create', '--name', 'Shop');
		await cli(dir, 'instances', 'create', '--account', '1', '--name', 'demo-support-line');
		const created = await cli(
			dir,
			'webhooks',
			'create',
			'--account',
			'1',
			'--url',
			'http://127.0.0.1:9/hook',
			'--events',
			'message.received,recipient.opted_out',
			'--json',
		);
		expect(created.code).toBe(0);
		const webhook = created.json() as { id: string; signing_secret: string; events: string[] };
		expect(webhook).toMatchObject({
			id: expect.stringMatching(/^wh_/),
			signing_secret: expect.stringMatching(/^whsec_/),
			events: ['message.received', 'recipient.opted_out'],
		});
		const listed = await cli(dir, 'webhooks', 'list', '--json');
		expect(listed.stdout).not.toContain(webhook.signing_secret);
		expect((await cli(dir, 'webhooks', 'disable', webhook.id, '--json')).json()).toMatchObject({ enabled: false });
		expect((await cli(dir, 'webhooks', 'enable', webhook.id, '--json')).json()).toMatchObject({
			enabled: true,
			disabled_reason: null,
		});

		const inbound = await cli(
			dir,
			'sandbox',
			'inbound',
			'--instance',
			'demo-support-line',
			'--from',
			'+966501234567',
			'--text',
			'STOP',
			'--id',
			'wamid.cli-1',
			'--json',
		);
		expect(inbound.json()).toMatchObject({
			duplicate: false,
			keyword_action: 'opt_out',
			event_ids: [expect.stringMatching(/^evt_/), expect.stringMatching(/^evt_/)],
		});
		const again = await cli(
			dir,
			'sandbox',
			'inbound',
			'--instance',
			'demo-support-line',
			'--from',
			'+966501234567',
			'--text',
			'STOP',
			'--id',
			'wamid.cli-1',
			'--json',
		);
		expect(again.json()).toMatchObject({ duplicate: true, event_ids: [] });
		expect((await cli(dir, 'suppressions', 'list', '--account', '1', '--json')).json()).toEqual([
			expect.objectContaining({ phone: '+966501234567', source: 'keyword' }),
		]);

		const deliveries = (await cli(dir, 'deliveries', 'list', '--json')).json() as {
			id: number;
			status: string;
			event_type: string;
		}[];
		expect(deliveries.map((row) => [row.event_type, row.status])).toEqual([
			['recipient.opted_out', 'pending'],
			['message.received', 'pending'],
		]);
		expect((await cli(dir, 'deliveries', 'redeliver', String(deliveries[0].id), '--json')).json()).toMatchObject({
			id: deliveries[0].id,
			event_type: 'recipient.opted_out',
			status: 'pending',
			attempts: 0,
		});
		expect((await cli(dir, 'deliveries', 'list', '--status', 'bogus')).stderr).toMatch(
			/--status must be pending, succeeded or failed/,
		);

		const badEvents = await cli(
			dir,
			'webhooks',
			'create',
			'--account',
			'1',
			'--url',
			'http://127.0.0.1:9/x',
			'--events',
			'message.nope',
		);
		expect(badEvents.code).toBe(1);
		expect(badEvents.stderr).toMatch(/events has unknown event types: message.nope/);
		expect((await cli(dir, 'webhooks', 'delete', webhook.id, '--json')).json()).toEqual({
			deleted: true,
			id: webhook.id,
		});
		expect((await cli(dir, 'deliveries', 'list', '--json')).json()).toEqual([]);
	});

	it('accounts update sets and resets the keyword lists', async () => {
		await cli(dir, 'accounts', 'create', '--name', 'Shop');
		const set = await cli(dir, 'accounts', 'update', '1', '--opt-out-keywords', 'BASTA, STOP', '--json');
		expect(set.json()).toMatchObject({ keywords: { opt_out: ['BASTA', 'STOP'], opt_in: ['START', 'UNSTOP', 'YES'] } });
		const reset = await cli(dir, 'accounts', 'update', '1', '--opt-out-keywords', 'default', '--json');
		expect((reset.json() as { keywords: { opt_out: string[] } }).keywords.opt_out).toContain('إيقاف');
	});
});
