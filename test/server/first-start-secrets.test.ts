import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { verifyAdminToken } from '../../server/src/accounts/operator-token';
import { loadConfig } from '../../server/src/config';
import { Gateway } from '../../server/src/gateway';
import { createLogger } from '../../server/src/logger';
import { CREDENTIALS_FILE_NAME } from '../../server/src/operations/one-time-secrets';
import { startServer } from '../../server/src/server';
import { cli, tempDir } from '../helpers/cli';

// The first start's API key and operator token are stored hashed: the start that creates them is the only
// one that can show them. They must never be lost (item 11: a busy port) nor reach a log stream (item 15:
// stdout under a service manager); on a terminal they are printed once.

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-secrets-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const SECRET = /wg_live_|wg_admin_/;
const apiKeyIn = (text: string) => /API key:\s+(wg_live_\w+)/.exec(text)?.[1];
const operatorTokenIn = (text: string) => /Operator token:\s+(wg_admin_\w+)/.exec(text)?.[1];

async function getMe(port: number, apiKey: string): Promise<number> {
	return (await fetch(`http://127.0.0.1:${port}/api/me`, { headers: { Authorization: `Bearer ${apiKey}` } })).status;
}

function start(env: Record<string, string>, terminal: boolean, printed: string[]) {
	const config = loadConfig({ HOST: '127.0.0.1', GATEWAY_DATA_DIR: dir, ...env });
	return startServer(config, { print: (text) => printed.push(text), terminal, logger: createLogger('silent') });
}

/** A start that must fail; one that does not is stopped, so the failing test leaves nothing running. */
async function expectStartFails(starting: ReturnType<typeof start>, reason: RegExp): Promise<void> {
	const outcome = await starting.then(
		async (running) => {
			await running.stop();
			return 'started';
		},
		(error: Error) => error.message,
	);
	expect(outcome).toMatch(reason);
}

describe('a busy port on the first start (in-process)', () => {
	it('creates nothing it cannot show: the next start shows a working API key and operator token', async () => {
		const blocker = net.createServer();
		await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
		const port = (blocker.address() as net.AddressInfo).port;
		const printed: string[] = [];
		try {
			await expectStartFails(start({ PORT: String(port) }, true, printed), /EADDRINUSE/);
		} finally {
			await new Promise((resolve) => blocker.close(resolve));
		}
		expect(printed.join('')).not.toMatch(SECRET);

		const again: string[] = [];
		const running = await start({ PORT: String(port) }, true, again);
		try {
			const banner = again.join('');
			expect(banner).toContain('set up for the first time');
			const apiKey = apiKeyIn(banner);
			const operatorToken = operatorTokenIn(banner);
			expect(apiKey).toBeDefined();
			expect(await getMe(port, apiKey!)).toBe(200);
			expect(verifyAdminToken(running.gateway.accounts, undefined, operatorToken)).toBe(true);
			expect(running.gateway.accounts.list()).toHaveLength(1);
		} finally {
			await running.stop();
		}
	});

	it('a credentials file that cannot be written fails the start and creates nothing', async () => {
		// A folder where the file goes: the write fails, so the set-up is rolled back.
		fs.mkdirSync(path.join(dir, CREDENTIALS_FILE_NAME));
		await expectStartFails(start({ PORT: '0' }, false, []), /EISDIR|EEXIST|directory/);
		fs.rmdirSync(path.join(dir, CREDENTIALS_FILE_NAME));
		const printed: string[] = [];
		const running = await start({ PORT: '0' }, false, printed);
		try {
			const file = fs.readFileSync(path.join(dir, CREDENTIALS_FILE_NAME), 'utf8');
			const port = (running.server.address() as net.AddressInfo).port;
			expect(await getMe(port, apiKeyIn(file)!)).toBe(200);
			expect(running.gateway.accounts.list()).toHaveLength(1);
		} finally {
			await running.stop();
		}
	});
});

describe('one-time secrets never reach a log stream (in-process)', () => {
	it('when stdout is not a terminal, they go to a 0600 file and stdout says where and how to replace them', async () => {
		const printed: string[] = [];
		const running = await start({ PORT: '0' }, false, printed);
		const file = path.join(dir, CREDENTIALS_FILE_NAME);
		try {
			const stdout = printed.join('');
			expect(stdout).not.toMatch(SECRET);
			expect(stdout).toContain(file);
			expect(stdout).toContain(`--data-dir ${dir} keys create --account 1`);
			expect(stdout).toContain(`--data-dir ${dir} operator-token rotate`);
			expect(fs.statSync(file).mode & 0o777).toBe(0o600);
			const written = fs.readFileSync(file, 'utf8');
			const port = (running.server.address() as net.AddressInfo).port;
			expect(await getMe(port, apiKeyIn(written)!)).toBe(200);
			expect(verifyAdminToken(running.gateway.accounts, undefined, operatorTokenIn(written))).toBe(true);
		} finally {
			await running.stop();
		}

		// A restart neither rewrites the file nor prints a secret, and warns while the file is still there.
		const lines: string[] = [];
		const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
		const again: string[] = [];
		const config = loadConfig({ PORT: '0', GATEWAY_DATA_DIR: dir });
		const restarted = await startServer(config, { print: (text) => again.push(text), terminal: false, logger });
		await restarted.stop();
		expect(again.join('')).not.toMatch(SECRET);
		expect(lines.join('')).toContain('credentials file is still in the data folder');
	});

	it('with GATEWAY_ADMIN_TOKEN set, the file holds the API key alone', async () => {
		const printed: string[] = [];
		const running = await start({ PORT: '0', GATEWAY_ADMIN_TOKEN: 'operator-token-0123456789abcdef' }, false, printed);
		await running.stop();
		expect(printed.join('')).toContain('Its API key is in');
		expect(printed.join('')).not.toContain('operator-token rotate');
		expect(fs.readFileSync(path.join(dir, CREDENTIALS_FILE_NAME), 'utf8')).toContain(
			'the value of GATEWAY_ADMIN_TOKEN',
		);
	});

	it('an operator token generated for a database the CLI made goes to the file too', async () => {
		const early = new Gateway({ databasePath: path.join(dir, 'gateway.db') });
		early.accounts.create({ name: 'Made by the CLI' });
		early.close();
		const printed: string[] = [];
		const running = await start({ PORT: '0' }, false, printed);
		try {
			expect(printed.join('')).not.toMatch(SECRET);
			const token = /(wg_admin_\w+)/.exec(fs.readFileSync(path.join(dir, CREDENTIALS_FILE_NAME), 'utf8'))?.[1];
			expect(verifyAdminToken(running.gateway.accounts, undefined, token)).toBe(true);
		} finally {
			await running.stop();
		}
	});
});

describe('operator-token rotate', () => {
	it('replaces a lost operator token, shown once; refused while GATEWAY_ADMIN_TOKEN is the token', async () => {
		await cli(dir, 'accounts', 'list');
		const rotated = await cli(dir, 'operator-token', 'rotate', '--json');
		expect(rotated.code).toBe(0);
		const token = (rotated.json() as { operator_token: string }).operator_token;
		const gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db') });
		try {
			expect(verifyAdminToken(gateway.accounts, undefined, token)).toBe(true);
		} finally {
			gateway.close();
		}
		const { runCli } = await import('../../server/src/cli/program');
		let stderr = '';
		const refused = await runCli(['operator-token', 'rotate'], {
			stdout: () => undefined,
			stderr: (text) => (stderr += text),
			env: { GATEWAY_DATA_DIR: dir, GATEWAY_ADMIN_TOKEN: 'operator-token-0123456789abcdef' },
			cwd: dir,
		});
		expect(refused.code).toBe(1);
		expect(stderr).toContain('GATEWAY_ADMIN_TOKEN is set');
	});
});

/** `serve` through the launcher, its stdout a pipe or (through util-linux `script`) a terminal. */
function serve(terminal: boolean): { child: ChildProcess; output: () => string; port: Promise<number> } {
	const bin = path.resolve(__dirname, '../../server/bin/whatsapp-gateway.js');
	const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', GATEWAY_DATA_DIR: dir, GATEWAY_LOG_FORMAT: 'json' };
	// `script -q -e -c CMD /dev/null`: CMD on a new pseudo-terminal, its exit code passed on.
	const child = terminal
		? spawn('script', ['-qec', `exec ${bin} serve`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
		: spawn(bin, ['serve'], { env });
	let output = '';
	child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const port = new Promise<number>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no listening line in: ${output}`)), 15_000);
		child.stdout!.on('data', () => {
			const match = /"port":(\d+)[^\n]*gateway listening/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(Number(match[1]));
			}
		});
	});
	return { child, output: () => output, port };
}

async function stopped(child: ChildProcess): Promise<number | null> {
	const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
	child.kill('SIGTERM');
	return exit;
}

describe('one-time secrets through the real `serve` process', () => {
	it('stdout a pipe (systemd, docker, a log file): no secret on stdout, a working key in the 0600 file', async () => {
		const running = serve(false);
		const port = await running.port;
		const file = path.join(dir, CREDENTIALS_FILE_NAME);
		try {
			expect(running.output()).not.toMatch(SECRET);
			expect(running.output()).toContain(file);
			expect(fs.statSync(file).mode & 0o777).toBe(0o600);
			expect(await getMe(port, apiKeyIn(fs.readFileSync(file, 'utf8'))!)).toBe(200);
		} finally {
			expect(await stopped(running.child)).toBe(0);
		}
		expect(running.output()).not.toMatch(SECRET);
	});

	(process.platform === 'linux' ? it : it.skip)(
		'stdout a terminal (npm start by a person): the banner shows a working key, and no file is written',
		async () => {
			const running = serve(true);
			const port = await running.port;
			try {
				const apiKey = apiKeyIn(running.output());
				expect(apiKey).toBeDefined();
				expect(operatorTokenIn(running.output())).toBeDefined();
				expect(await getMe(port, apiKey!)).toBe(200);
				expect(fs.existsSync(path.join(dir, CREDENTIALS_FILE_NAME))).toBe(false);
			} finally {
				await stopped(running.child);
			}
		},
	);
});
