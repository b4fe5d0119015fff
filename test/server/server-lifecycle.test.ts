import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { verifyAdminToken } from '../../server/src/accounts/operator-token';
import { loadConfig } from '../../server/src/config';
import { createLogger } from '../../server/src/logger';
import { startServer } from '../../server/src/server';
import { tempDir } from '../helpers/cli';

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-server-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('configuration', () => {
	it('has the documented defaults', () => {
		const config = loadConfig({}, '/srv/gateway');
		expect(config).toMatchObject({
			port: 3000,
			host: '0.0.0.0',
			dataDir: '/srv/gateway/data',
			databasePath: '/srv/gateway/data/gateway.db',
			provider: 'sandbox',
			logLevel: 'info',
			defaultTimeZone: 'UTC',
			publicUrl: 'http://localhost:3000',
			adminToken: undefined,
			retentionDays: 90,
		});
	});

	it.each([
		[{ PORT: 'eighty' }, /PORT/],
		[{ PORT: '-1' }, /PORT/],
		[{ PORT: '70000' }, /PORT/],
		[{ GATEWAY_LOG_LEVEL: 'loud' }, /GATEWAY_LOG_LEVEL/],
		[{ GATEWAY_PROVIDER: 'whatsapp-web' }, /GATEWAY_PROVIDER/],
		[{ GATEWAY_ADMIN_TOKEN: 'short' }, /GATEWAY_ADMIN_TOKEN must be at least 24 characters/],
		[{ GATEWAY_PUBLIC_URL: 'ftp://x' }, /GATEWAY_PUBLIC_URL/],
		[{ GATEWAY_SANDBOX_FAIL_NUMBERS: '+1555,abc' }, /GATEWAY_SANDBOX_FAIL_NUMBERS/],
		[{ GATEWAY_SANDBOX_FAILURE_RATE: '2' }, /GATEWAY_SANDBOX_FAILURE_RATE/],
		[{ GATEWAY_RETENTION_DAYS: 'forever' }, /GATEWAY_RETENTION_DAYS/],
	])('refuses %j naming the variable', (env, message) => {
		expect(() => loadConfig(env)).toThrow(message);
	});
});

describe('logging', () => {
	it('redacts keys, secrets, tokens and Authorization headers', () => {
		let output = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				output += chunk.toString();
				done();
			},
		});
		const logger = createLogger('info', sink);
		logger.info(
			{
				headers: { authorization: 'Bearer wg_live_secret1' },
				apiKey: 'wg_live_secret2',
				integration: { secret: 's3cr3t', token: 'tok' },
			},
			'x',
		);
		expect(output).not.toMatch(/wg_live_secret|s3cr3t|"tok"/);
		expect(output).toContain('[redacted]');
	});
});

describe('first start', () => {
	it('bootstraps an account, demo-support-line and a key, prints them once, and the key works', async () => {
		const printed: string[] = [];
		const config = loadConfig({ PORT: '0', GATEWAY_DATA_DIR: dir, GATEWAY_LOG_LEVEL: 'silent' });
		const first = await startServer(config, {
			print: (text) => printed.push(text),
			terminal: true,
			logger: createLogger('silent'),
		});
		let apiKey: string;
		try {
			const banner = printed.join('');
			apiKey = /API key:\s+(wg_live_\w+)/.exec(banner)![1];
			const adminToken = /Operator token:\s+(wg_admin_\w+)/.exec(banner)![1];
			expect(banner).toContain('demo-support-line');
			expect(verifyAdminToken(first.gateway.accounts, undefined, adminToken)).toBe(true);
			expect(verifyAdminToken(first.gateway.accounts, undefined, `${adminToken}x`)).toBe(false);
			const port = (first.server.address() as { port: number }).port;
			const res = await fetch(`http://127.0.0.1:${port}/api/send-message`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
				body: JSON.stringify({
					instance_id: 'demo-support-line',
					phone: '+966501234567',
					message: 'Your order #2041 has shipped.',
					message_purpose: 'transactional',
				}),
			});
			expect(res.status).toBe(200);
			// The printed dashboard sign-in takes the printed operator token.
			expect(banner).toMatch(/Dashboard:\s+\S+\/login/);
			const signIn = await fetch(`http://127.0.0.1:${port}/login`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({ token: adminToken }).toString(),
				redirect: 'manual',
			});
			expect({ status: signIn.status, location: signIn.headers.get('location') }).toEqual({
				status: 302,
				location: '/dashboard',
			});
		} finally {
			await first.stop();
		}
		expect(fs.readdirSync(dir)).toContain('gateway.db');

		const again: string[] = [];
		const second = await startServer(config, {
			print: (text) => again.push(text),
			terminal: true,
			logger: createLogger('silent'),
		});
		await second.stop();
		// A restart shows where the gateway is and how to get a key, never the first start's secrets again.
		expect(again.join('')).toMatch(/WhatsApp Gateway is running at http:\/\/localhost:\d+\n/);
		expect(again.join('')).toContain('npx whatsapp-gateway keys create --account 1');
		expect(again.join('')).not.toMatch(/wg_live_|wg_admin_/);
	});

	it('with GATEWAY_ADMIN_TOKEN set, that token is the operator token and none is generated', async () => {
		const printed: string[] = [];
		const token = 'operator-token-0123456789abcdef';
		const config = loadConfig({ PORT: '0', GATEWAY_DATA_DIR: dir, GATEWAY_ADMIN_TOKEN: token });
		const running = await startServer(config, {
			print: (text) => printed.push(text),
			terminal: true,
			logger: createLogger('silent'),
		});
		try {
			expect(printed.join('')).toContain('the value of GATEWAY_ADMIN_TOKEN');
			expect(verifyAdminToken(running.gateway.accounts, token, token)).toBe(true);
			expect(verifyAdminToken(running.gateway.accounts, token, 'nope')).toBe(false);
		} finally {
			await running.stop();
		}
	});
});

describe('one gateway per data folder', () => {
	it('a second start on the same folder fails with a reason and leaves the first one alone', async () => {
		const config = loadConfig({ PORT: '0', GATEWAY_DATA_DIR: dir });
		const first = await startServer(config, { print: () => undefined, logger: createLogger('silent') });
		try {
			await expect(startServer(config, { print: () => undefined, logger: createLogger('silent') })).rejects.toThrow(
				`another gateway (pid ${process.pid}) is already serving`,
			);
			const port = (first.server.address() as { port: number }).port;
			expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
		} finally {
			await first.stop();
		}
		// Released on stop: the folder can be served again.
		const again = await startServer(config, { print: () => undefined, logger: createLogger('silent') });
		await again.stop();
	});

	it('a failed start (port taken) releases the folder and keeps no timers alive', async () => {
		const blocker = await startServer(loadConfig({ PORT: '0', GATEWAY_DATA_DIR: path.join(dir, 'a') }), {
			print: () => undefined,
			logger: createLogger('silent'),
		});
		const port = String((blocker.server.address() as { port: number }).port);
		try {
			const taken = loadConfig({ PORT: port, GATEWAY_DATA_DIR: path.join(dir, 'b') });
			await expect(startServer(taken, { print: () => undefined, logger: createLogger('silent') })).rejects.toThrow(
				/EADDRINUSE/,
			);
			expect(fs.existsSync(path.join(dir, 'b', 'gateway.pid'))).toBe(false);
		} finally {
			await blocker.stop();
		}
	});

	it('an operator token is generated on the first serve even when the CLI created the first account', async () => {
		const { Gateway } = await import('../../server/src/gateway');
		const early = new Gateway({ databasePath: path.join(dir, 'gateway.db') });
		early.accounts.create({ name: 'Made by the CLI' });
		early.close();
		const printed: string[] = [];
		const running = await startServer(loadConfig({ PORT: '0', GATEWAY_DATA_DIR: dir }), {
			print: (text) => printed.push(text),
			terminal: true,
			logger: createLogger('silent'),
		});
		try {
			const token = /Operator token \(shown once, keep it\): (wg_admin_\w+)/.exec(printed.join(''))?.[1];
			expect(token).toBeDefined();
			expect(verifyAdminToken(running.gateway.accounts, undefined, token)).toBe(true);
		} finally {
			await running.stop();
		}
	});
});

describe('process', () => {
	it('npm start’s launcher logs the sandbox warning as JSON, serves, and exits 0 on SIGTERM', async () => {
		const bin = path.resolve(__dirname, '../../server/bin/whatsapp-gateway.js');
		const loadedFile = path.join(dir, 'loaded-packages.txt');
		const preload = `--require ${path.resolve(__dirname, '../helpers/loaded-packages.js')}`;
		const env = {
			...process.env,
			PORT: '0',
			HOST: '127.0.0.1',
			GATEWAY_DATA_DIR: dir,
			LOADED_PACKAGES_FILE: loadedFile,
		};
		const child = spawn(bin, ['serve'], {
			env: { ...env, NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') },
		});
		let stdout = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		const port = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no listening line in: ${stdout}`)), 15_000);
			child.stdout.on('data', () => {
				const match = /"port":(\d+)[^\n]*gateway listening/.exec(stdout);
				if (match) {
					clearTimeout(timer);
					resolve(Number(match[1]));
				}
			});
		});
		const health = await fetch(`http://127.0.0.1:${port}/`);
		expect(await health.json()).toEqual({ success: true, status: 'ok', version: expect.any(String) });
		const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
		child.kill('SIGTERM');
		expect(await exit).toBe(0);
		// Its stdout is a pipe, not a terminal: the first start's secrets went to a file, not to the log.
		expect(stdout).not.toMatch(/wg_live_|wg_admin_/);
		const logLines = stdout.split('\n').filter((line) => line.startsWith('{'));
		const messages = logLines.map((line) => (JSON.parse(line) as { msg: string }).msg);
		expect(messages).toEqual(
			expect.arrayContaining([
				expect.stringMatching(/SANDBOX PROVIDER: .*nothing is sent to WhatsApp/),
				'gateway listening',
				'stopped',
			]),
		);
		// A real provider's HTTP client, the QR code drawer and the docs' Markdown renderer load on first use.
		const loaded = fs.readFileSync(loadedFile, 'utf8').split('\n');
		expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'koa']));
		expect(loaded).not.toContain('axios');
		expect(loaded).not.toContain('qrcode');
		expect(loaded).not.toContain('markdown-it');
	});
});
