import fs from 'node:fs';
import os from 'node:os';
import request from 'supertest';
import { runCli } from '../../server/src/cli/program';
import { checkDestination } from '../../server/src/events/destination';
import { Gateway } from '../../server/src/gateway';
import { tempDir } from '../helpers/cli';

/** Issue 8, item 8: webhook URL refusals say nothing about internal DNS; the CLI applies the API's rules. */

describe('with private destinations blocked, a refusal does not tell what a host name resolves to', () => {
	const answers: Record<string, string[]> = {
		'n8n.internal': ['10.0.0.7'],
		'db.internal': ['127.0.0.1'],
		'imds.internal': ['169.254.169.254'],
		'half.internal': ['93.184.215.14', '192.168.1.20'],
		'empty.internal': [],
	};
	const lookup = async (host: string): Promise<string[]> => {
		const found = answers[host];
		if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
		return found;
	};
	const reason = (host: string) =>
		checkDestination(new URL(`http://${host}/hook`), { allowPrivate: false, lookup }).then(
			() => 'allowed',
			(error: Error) => error.message.replaceAll(host, '<host>'),
		);

	it('internal, loopback, metadata, mixed, empty and unknown names all get the same general reason', async () => {
		const reasons = await Promise.all(
			['n8n.internal', 'db.internal', 'imds.internal', 'half.internal', 'empty.internal', 'nowhere.internal'].map(
				reason,
			),
		);
		expect(new Set(reasons)).toEqual(
			new Set([
				'webhook destination <host> is not allowed: its host name must resolve to public internet addresses only',
			]),
		);
		for (const text of reasons)
			expect(text).not.toMatch(/\d+\.\d+\.\d+\.\d+|private|loopback|metadata|resolved|ENOTFOUND/);
	});

	it('the API answer for a host name resolving to loopback names neither the address nor its kind', async () => {
		const gateway = new Gateway({ databasePath: ':memory:', delivery: { allowPrivate: false } });
		try {
			const account = gateway.accounts.create({ name: 'Tenant' });
			const { key } = gateway.accounts.createKey(account.id);
			const res = await request(gateway.createApp().callback())
				.post('/api/webhooks')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
				.send({ destination_url: 'http://localhost:5678/hook', events: ['message.received'] });
			expect(res.status).toBe(422);
			expect(res.body.details.fields.destination_url).toBe(
				'webhook destination localhost is not allowed: its host name must resolve to public internet addresses only',
			);
			expect(JSON.stringify(res.body)).not.toMatch(/127\.0\.0\.1|::1|loopback/);
		} finally {
			gateway.close();
		}
	});
});

describe('the CLI’s webhooks create applies GATEWAY_WEBHOOK_BLOCK_PRIVATE like the API', () => {
	let dir: string;
	beforeEach(() => {
		dir = tempDir('wg-leaks-');
	});
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	async function run(env: Record<string, string>, ...argv: string[]) {
		let stdout = '';
		let stderr = '';
		const { code } = await runCli(argv, {
			stdout: (text) => (stdout += text),
			stderr: (text) => (stderr += text),
			env: { GATEWAY_DATA_DIR: dir, ...env },
			cwd: os.tmpdir(),
		});
		return { code, stdout, stderr };
	}

	it('refuses a loopback destination when private destinations are blocked, and allows it otherwise', async () => {
		expect((await run({}, 'accounts', 'create', '--name', 'Tenant')).code).toBe(0);
		const create = (env: Record<string, string>, url: string) =>
			run(env, 'webhooks', 'create', '--account', '1', '--url', url, '--events', 'message.received', '--json');
		const blocked = { GATEWAY_WEBHOOK_BLOCK_PRIVATE: 'true' };
		for (const url of ['http://127.0.0.1:5678/hook', 'http://10.1.2.3/hook', 'http://localhost:5678/hook']) {
			const refused = await create(blocked, url);
			expect({ url, code: refused.code, stdout: refused.stdout }).toEqual({ url, code: 1, stdout: '' });
			expect(refused.stderr).toMatch(/^whatsapp-gateway: destination_url .*not allowed/);
		}
		expect((await run(blocked, 'webhooks', 'list', '--json')).stdout).toBe('[]\n');
		const allowed = await create({}, 'http://127.0.0.1:5678/hook');
		expect(allowed.code).toBe(0);
		// Link-local and metadata addresses stay refused whatever the switch says.
		expect((await create({}, 'http://169.254.169.254/latest/meta-data/')).code).toBe(1);
	});
});
