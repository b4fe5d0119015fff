import fs from 'node:fs';
import { cli, tempDir } from '../helpers/cli';

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-3cx-cli-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('whatsapp-gateway 3cx', () => {
	it('create (secrets once) | list | show | update | rotate-secret | delete, and the module switch', async () => {
		await cli(dir, 'accounts', 'create', '--name', 'Clinic', '--country', 'SA');
		await cli(dir, 'instances', 'create', '--account', '1', '--name', 'reception');
		const created = await cli(
			dir,
			'3cx',
			'create',
			'--account',
			'1',
			'--instance',
			'reception',
			'--business-name',
			'Clinic Riyadh',
			'--generate-hmac-secret',
			'--allow-ips',
			'10.0.0.0/8,192.168.1.20',
			'--call-ended',
			'on',
			'--missed-call-template',
			'Sorry we missed you at {{business_name}}.',
			'--json',
		);
		expect(created.stderr).toBe('');
		expect(created.code).toBe(0);
		const integration = created.json() as Record<string, unknown>;
		expect(integration).toMatchObject({
			id: 1,
			secret: expect.stringMatching(/^tcx_/),
			hmac_secret: expect.stringMatching(/^tcxh_/),
			hmac_enabled: true,
			ip_allowlist: ['10.0.0.0/8', '192.168.1.20/32'],
			business_name: 'Clinic Riyadh',
			webhook_url: 'http://localhost:3000/integrations/3cx/webhook/1',
			generic_sms_url: 'http://localhost:3000/integrations/3cx/sms/1',
			templates: {
				missed_call: { enabled: true, text: 'Sorry we missed you at {{business_name}}.' },
				call_ended: { enabled: true },
			},
		});

		const listed = await cli(dir, '3cx', 'list', '--json');
		expect((listed.json() as unknown[]).length).toBe(1);
		expect(listed.stdout).not.toContain(integration.secret as string);
		expect(listed.stdout).not.toContain(integration.hmac_secret as string);
		const shown = await cli(dir, '3cx', 'show', '1', '--json');
		expect(shown.json()).toMatchObject({ id: 1, recent_events: [] });
		expect(shown.stdout).not.toContain(integration.secret as string);
		// Without --json too: every template with its switch and text.
		const human = (await cli(dir, '3cx', 'show', '1')).stdout;
		expect(human).toMatch(/^templates:\nevent +enabled +text\n/m);
		expect(human).toMatch(/^missed_call +on +Sorry we missed you at \{\{business_name\}\}\.$/m);
		expect(human).toMatch(/^call_ended +on +\S/m);
		// A template over two lines stays on its row.
		expect(
			(await cli(dir, '3cx', 'update', '1', '--voicemail-template', 'Thanks for your message.\nWe call back today.'))
				.code,
		).toBe(0);
		expect((await cli(dir, '3cx', 'show', '1')).stdout).toMatch(
			/^voicemail +on +Thanks for your message\.\\nWe call back today\.$/m,
		);

		const updated = await cli(
			dir,
			'3cx',
			'update',
			'1',
			'--hmac-secret',
			'none',
			'--allow-ips',
			'any',
			'--window-hours',
			'48',
			'--outbound',
			'off',
			'--json',
		);
		expect(updated.json()).toMatchObject({
			hmac_enabled: false,
			ip_allowlist: [],
			window_hours: 48,
			outbound_enabled: false,
		});

		const rotated = await cli(dir, '3cx', 'rotate-secret', '1', '--json');
		expect((rotated.json() as { secret: string }).secret).not.toBe(integration.secret);

		const refused = await cli(dir, '3cx', 'update', '1', '--voicemail-template', 'Hi {{caller_name}}');
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/unknown variables: caller_name/);
		const badRange = await cli(dir, '3cx', 'update', '1', '--allow-ips', '10.0.0.0/33');
		expect(badRange.stderr).toMatch(/is not an IP address or CIDR range/);

		const moduleOff = await cli(dir, 'accounts', 'update', '1', '--threecx', 'off', '--json');
		expect(moduleOff.code).toBe(0);

		expect((await cli(dir, '3cx', 'delete', '1', '--json')).json()).toEqual({ deleted: true, id: 1 });
		expect((await cli(dir, '3cx', 'show', '1')).stderr).toMatch(/3CX integration 1 does not exist/);
	});
});
