/**
 * The operator's CLI for real providers: `instances create --provider … --setting`, `instances update`,
 * `instances connect` (QR in the terminal, waits until connected), against the fake Evolution API and
 * Graph API; secrets never printed after creation.
 */
import { EvolutionApiFake } from '../fakes/evolution-api';
import { GraphApiFake } from '../fakes/graph-api';
import path from 'node:path';
import { Gateway } from '../../server/src/gateway';
import { cli, tempDir } from '../helpers/cli';

const GLOBAL_KEY = 'evolution-global-key-SECRET-cli-0001';

let evolution: EvolutionApiFake;
let dataDir: string;

beforeEach(async () => {
	evolution = await new EvolutionApiFake({ globalKey: GLOBAL_KEY }).start();
	dataDir = tempDir();
	expect((await cli(dataDir, 'accounts', 'create', '--name', 'Acme', '--json')).code).toBe(0);
});

afterEach(async () => {
	await evolution.stop();
});

it('creates an Evolution instance, connects it with a QR code in the terminal, and waits until it is connected', async () => {
	const created = await cli(
		dataDir,
		'instances',
		'create',
		'--account',
		'1',
		'--name',
		'support-line',
		'--provider',
		'evolution',
		'--setting',
		`baseUrl=${evolution.url}`,
		'--setting',
		`apiKey=${GLOBAL_KEY}`,
		'--setting',
		'instanceName=support-line',
		'--json',
	);
	expect(created.code).toBe(0);
	expect(created.json()).toMatchObject({
		provider: 'evolution',
		connection_state: 'disconnected',
		settings_set: ['apiKey', 'baseUrl', 'instanceName', 'webhookToken'],
	});
	expect(created.stdout).not.toContain(GLOBAL_KEY);

	const asked = evolution.nextRequest('/instance/connectionState/support-line');
	const connecting = cli(dataDir, 'instances', 'connect', 'support-line', '--interval-ms', '20', '--timeout', '20');
	// The first connectionState is connect's own check; the QR is fetched next; then the CLI polls.
	await asked;
	await evolution.nextRequest('/instance/connect/support-line');
	await evolution.nextRequest('/instance/connectionState/support-line');
	evolution.instances.get('support-line')!.state = 'open';
	const connected = await connecting;
	expect(connected.code).toBe(0);
	expect(connected.stdout).toContain('Scan with WhatsApp');
	expect(connected.stdout).toMatch(/[▀▄█]/);
	expect(connected.stdout).toContain('support-line is connected to WhatsApp.');
	expect(connected.stdout).not.toContain(GLOBAL_KEY);

	const listed = await cli(dataDir, 'instances', 'list', '--json');
	expect(listed.json()).toEqual([expect.objectContaining({ name: 'support-line', connection_state: 'connected' })]);
	expect(listed.stdout).not.toContain(GLOBAL_KEY);
});

it('connect gives up with a one-line reason when nobody scans in time', async () => {
	await cli(
		dataDir,
		'instances',
		'create',
		'--account',
		'1',
		'--name',
		'support-line',
		'--provider',
		'evolution',
		'--setting',
		`baseUrl=${evolution.url}`,
		'--setting',
		`apiKey=${GLOBAL_KEY}`,
		'--setting',
		'instanceName=support-line',
	);
	const run = await cli(
		dataDir,
		'instances',
		'connect',
		'support-line',
		'--interval-ms',
		'20',
		'--timeout',
		'0',
		'--json',
	);
	expect(run.code).toBe(1);
	expect(run.stderr).toMatch(/not connected after 0 s/);
	expect(run.stdout).toBe('');
});

it('update validates and merges settings, and never prints them; a Cloud API verify token is shown once, at creation', async () => {
	await cli(
		dataDir,
		'instances',
		'create',
		'--account',
		'1',
		'--name',
		'support-line',
		'--provider',
		'evolution',
		'--setting',
		`baseUrl=${evolution.url}`,
		'--setting',
		`apiKey=${GLOBAL_KEY}`,
		'--setting',
		'instanceName=support-line',
	);
	const bad = await cli(dataDir, 'instances', 'update', 'support-line', '--setting', 'baseUrl=not a url');
	expect(bad.code).toBe(1);
	expect(bad.stderr).toContain('evolution settings: baseUrl must be an http or https URL');
	const unknown = await cli(
		dataDir,
		'instances',
		'update',
		'support-line',
		'--setting',
		'bogus=1',
		'--setting',
		'pacePerMinute=abc',
	);
	expect(unknown.stderr).toContain(
		'evolution settings: pacePerMinute must be a whole number; bogus is not an evolution setting',
	);
	expect((await cli(dataDir, 'instances', 'update', 'support-line', '--setting', 'pacePerMinute=0')).stderr).toContain(
		'pacePerMinute must be at least 1',
	);
	const updated = await cli(
		dataDir,
		'instances',
		'update',
		'support-line',
		'--setting',
		'pacePerMinute=30',
		'--setting',
		'apiKey=another-key-SECRET',
		'--json',
	);
	expect(updated.code).toBe(0);
	expect(updated.json()).toMatchObject({
		settings_set: ['apiKey', 'baseUrl', 'instanceName', 'pacePerMinute', 'webhookToken'],
	});
	expect(updated.stdout).not.toContain('another-key-SECRET');

	const graph = await new GraphApiFake({ phoneNumberId: '106540352242922', accessToken: 'EAAG-token' }).start();
	try {
		const cloud = await cli(
			dataDir,
			'instances',
			'create',
			'--account',
			'1',
			'--name',
			'cloud-line',
			'--provider',
			'cloud',
			'--setting',
			'phoneNumberId=106540352242922',
			'--setting',
			'accessToken=EAAG-token',
			'--setting',
			'appSecret=app-secret-SECRET',
			'--setting',
			`graphUrl=${graph.graphUrl}`,
			'--json',
		);
		expect(cloud.code).toBe(0);
		const data = cloud.json() as { id: string; webhook_url: string; generated_secrets: { verifyToken: string } };
		expect(data.webhook_url).toBe(`http://localhost:3000/providers/cloud/${data.id}`);
		expect(data.generated_secrets.verifyToken).toMatch(/^[\w-]{32}$/);
		expect(cloud.stdout).not.toContain('app-secret-SECRET');
		const connect = await cli(dataDir, 'instances', 'connect', 'cloud-line', '--json');
		expect(connect.code).toBe(0);
		expect(connect.json()).toMatchObject({ connection_state: 'connected', connected: true });
		const list = await cli(dataDir, 'instances', 'list', '--json');
		expect(list.stdout).not.toContain(data.generated_secrets.verifyToken);

		// A new token keeps the connection; another number needs a new connect: disconnected, with its event.
		const webhook = await cli(
			dataDir,
			'webhooks',
			'create',
			'--account',
			'1',
			'--url',
			'http://127.0.0.1:9/hook',
			'--events',
			'instance.disconnected',
		);
		expect(webhook.code).toBe(0);
		const token = await cli(
			dataDir,
			'instances',
			'update',
			'cloud-line',
			'--setting',
			'accessToken=EAAG-token-2',
			'--json',
		);
		expect(token.json()).toMatchObject({ connection_state: 'connected' });
		const number = await cli(
			dataDir,
			'instances',
			'update',
			'cloud-line',
			'--setting',
			'phoneNumberId=106540352242923',
			'--json',
		);
		expect(number.json()).toMatchObject({ connection_state: 'disconnected' });
		const deliveries = (await cli(dataDir, 'deliveries', 'list', '--json')).json() as { event_type: string }[];
		expect(deliveries.map((row) => row.event_type)).toEqual(['instance.disconnected']);
	} finally {
		await graph.stop();
	}
});

it('connect shows a new QR code when the running gateway receives one from Evolution (they expire)', async () => {
	const created = await cli(
		dataDir,
		'instances',
		'create',
		'--account',
		'1',
		'--name',
		'support-line',
		'--provider',
		'evolution',
		'--setting',
		`baseUrl=${evolution.url}`,
		'--setting',
		`apiKey=${GLOBAL_KEY}`,
		'--setting',
		'instanceName=support-line',
		'--json',
	);
	const instanceId = (created.json() as { id: string }).id;
	const firstPoll = evolution.nextRequest('/instance/connect/support-line');
	const connecting = cli(dataDir, 'instances', 'connect', 'support-line', '--interval-ms', '20', '--timeout', '20');
	await firstPoll;
	await evolution.nextRequest('/instance/connectionState/support-line');
	// What the serving gateway does with a qrcode.updated webhook: store the new code (another connection to the same database).
	const serving = new Gateway({ databasePath: path.join(dataDir, 'gateway.db') });
	try {
		serving.instances.setQr(instanceId, '2@second-qr-code-after-expiry', Date.now());
	} finally {
		serving.close();
	}
	await evolution.nextRequest('/instance/connectionState/support-line');
	await evolution.nextRequest('/instance/connectionState/support-line');
	evolution.instances.get('support-line')!.state = 'open';
	const run = await connecting;
	expect(run.code).toBe(0);
	expect(run.stdout.split('Scan with WhatsApp')).toHaveLength(3);
});
