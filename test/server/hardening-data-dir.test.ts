import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../server/src/config';
import { openDatabase } from '../../server/src/db';
import { lockDataDir } from '../../server/src/db/lock';
import { createLogger } from '../../server/src/logger';
import { startServer } from '../../server/src/server';
import { tempDir } from '../helpers/cli';
import { fileMode, withOpenUmask } from '../helpers/files';

/** Issue 8, items 4 and 5: the data folder is private, and its lock is released by the operating system. */

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-data-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const mode = fileMode;

function capture() {
	let text = '';
	const sink = new Writable({
		write(chunk, _encoding, done) {
			text += chunk.toString();
			done();
		},
	});
	return {
		logger: createLogger('info', sink),
		lines: () =>
			text
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line) as { level: number; msg: string }),
	};
}

describe('data folder permissions', () => {
	withOpenUmask();

	it('a new data folder is 0700 and its database, WAL, shared-memory, lock and pid files 0600, even with umask 000', async () => {
		const dataDir = path.join(dir, 'nested', 'data');
		const { logger, lines } = capture();
		const running = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', GATEWAY_DATA_DIR: dataDir }), {
			print: () => undefined,
			logger,
		});
		try {
			const port = (running.server.address() as { port: number }).port;
			expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
			expect(mode(dataDir)).toBe('700');
			expect(mode(path.join(dir, 'nested'))).toBe('700');
			const files = fs.readdirSync(dataDir).sort();
			expect(files).toEqual(
				expect.arrayContaining(['gateway.db', 'gateway.db-shm', 'gateway.db-wal', 'gateway.lock', 'gateway.pid']),
			);
			expect(Object.fromEntries(files.map((file) => [file, mode(path.join(dataDir, file))]))).toEqual(
				Object.fromEntries(files.map((file) => [file, '600'])),
			);
			expect(lines().filter((line) => /accessible to other users/.test(line.msg))).toEqual([]);
		} finally {
			await running.stop();
		}
	});

	it('the CLI’s database files are 0600 too, and an existing 0644 database is tightened', () => {
		const dataDir = path.join(dir, 'cli');
		fs.mkdirSync(dataDir, { mode: 0o700 });
		fs.writeFileSync(path.join(dataDir, 'gateway.db'), '', { mode: 0o644 });
		const db = openDatabase(path.join(dataDir, 'gateway.db'));
		try {
			db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run('k', 'v');
			for (const file of fs.readdirSync(dataDir)) expect([file, mode(path.join(dataDir, file))]).toEqual([file, '600']);
		} finally {
			db.close();
		}
	});

	it('warns at start when an existing data folder is readable by other users', async () => {
		const dataDir = path.join(dir, 'shared');
		fs.mkdirSync(dataDir, { mode: 0o755 });
		const { logger, lines } = capture();
		const running = await startServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', GATEWAY_DATA_DIR: dataDir }), {
			print: () => undefined,
			logger,
		});
		await running.stop();
		const warning = lines().find((line) => /accessible to other users/.test(line.msg));
		expect(warning).toMatchObject({ level: 40, msg: expect.stringContaining('mode 0755') });
		expect(warning?.msg).toContain('chmod 700');
	});
});

describe('the data-folder lock', () => {
	const distLock = path.resolve(__dirname, '../../server/dist/db/lock.js');
	/** Every process a test started, ended afterwards even when the test failed half-way. */
	const spawned: ChildProcessWithoutNullStreams[] = [];
	afterEach(async () => {
		const running = spawned.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
		for (const child of running) child.kill('SIGKILL');
		await Promise.all(running.map(exited));
	});

	/** A process that takes the lock when told "go" on stdin, says what happened, and holds on until stdin closes. */
	function contender(dataDir: string): {
		child: ChildProcessWithoutNullStreams;
		ready: Promise<void>;
		result: Promise<string>;
	} {
		const script = `
      const { lockDataDir } = require(${JSON.stringify(distLock)});
      process.stdin.once('data', () => {
        let result;
        try { lockDataDir(${JSON.stringify(dataDir)}); result = 'locked'; }
        catch (error) { result = /already serving/.test(error.message) ? 'refused' : 'error ' + error.message; }
        process.stdout.write(result + '\\n');
        process.stdin.on('end', () => process.exit(0));
      });
      process.stdout.write('ready\\n');`;
		const child = spawn(process.execPath, ['-e', script]);
		spawned.push(child);
		let output = '';
		let onReady: () => void = () => undefined;
		const ready = new Promise<void>((resolve) => (onReady = resolve));
		const result = new Promise<string>((resolve, reject) => {
			child.stdout.on('data', (chunk: Buffer) => {
				output += chunk.toString();
				const lines = output.split('\n').filter(Boolean);
				if (lines.length >= 1) onReady();
				if (lines.length >= 2) resolve(lines[1]);
			});
			child.on('exit', (code) => reject(new Error(`contender exited (${code}) after: ${output}`)));
		});
		// Whoever is not awaiting the result when a failed test ends the process must not see an unhandled rejection.
		result.catch(() => undefined);
		return { child, ready, result };
	}

	const exited = (child: ChildProcessWithoutNullStreams) =>
		new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

	/** The pid of a process that has just ended: what a stale pid file holds after a crash. */
	async function deadPid(): Promise<number> {
		const child = spawn(process.execPath, ['-e', '']);
		await exited(child as ChildProcessWithoutNullStreams);
		return child.pid as number;
	}

	beforeAll(() => {
		if (!fs.existsSync(distLock)) throw new Error(`${distLock} is missing: run npm run build:server (npm test does)`);
	});

	it('a stale gateway.pid naming an unrelated live process does not block the start', async () => {
		const unrelated = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
		spawned.push(unrelated);
		try {
			fs.writeFileSync(path.join(dir, 'gateway.pid'), `${unrelated.pid}\n`);
			const lock = lockDataDir(dir);
			expect(fs.readFileSync(path.join(dir, 'gateway.pid'), 'utf8')).toBe(`${process.pid}\n`);
			lock.release();
			expect(fs.existsSync(path.join(dir, 'gateway.pid'))).toBe(false);
		} finally {
			unrelated.kill('SIGKILL');
			await exited(unrelated);
		}
	});

	it('processes starting at once on a stale lock never both get it (20 trials of 4 contenders, 5 at a time)', async () => {
		const outcomes: string[][] = [];
		for (let batch = 0; batch < 4; batch += 1) {
			const trials = await Promise.all(
				Array.from({ length: 5 }, async (_, i) => {
					const dataDir = path.join(dir, `trial-${batch}-${i}`);
					fs.mkdirSync(dataDir);
					fs.writeFileSync(path.join(dataDir, 'gateway.pid'), `${await deadPid()}\n`);
					return Array.from({ length: 4 }, () => contender(dataDir));
				}),
			);
			const all = trials.flat();
			await Promise.all(all.map(({ ready }) => ready));
			for (const { child } of all) child.stdin.write('go\n');
			for (const group of trials) outcomes.push((await Promise.all(group.map(({ result }) => result))).sort());
			for (const { child } of all) child.stdin.end();
			await Promise.all(all.map(({ child }) => exited(child)));
		}
		expect(outcomes).toEqual(new Array(20).fill(['locked', 'refused', 'refused', 'refused']));
	}, 120_000);

	it('a gateway.lock that is not a lock database (overwritten, truncated) is reset and the start goes on', async () => {
		const file = path.join(dir, 'gateway.lock');
		const whole = (() => {
			const lock = lockDataDir(dir);
			lock.release();
			return fs.readFileSync(file);
		})();
		for (const damaged of [Buffer.from('not a lock file\n'.repeat(100)), whole.subarray(0, 100)]) {
			fs.writeFileSync(file, damaged);
			const lock = lockDataDir(dir);
			// It is a lock again: another process is refused while this one holds it.
			const contenderAfter = contender(dir);
			await contenderAfter.ready;
			contenderAfter.child.stdin.write('go\n');
			expect(await contenderAfter.result).toBe('refused');
			contenderAfter.child.stdin.end();
			await exited(contenderAfter.child);
			lock.release();
		}
	});

	it('overwriting a held gateway.lock does not let a second gateway in: it is still refused', async () => {
		const holder = contender(dir);
		await holder.ready;
		holder.child.stdin.write('go\n');
		expect(await holder.result).toBe('locked');
		fs.writeFileSync(path.join(dir, 'gateway.lock'), 'not a lock file\n');
		expect(() => lockDataDir(dir)).toThrow(`another gateway (pid ${holder.child.pid}) is already serving`);
	});

	it('a holder killed with SIGKILL leaves nothing that blocks the next start', async () => {
		const holder = contender(dir);
		await holder.ready;
		holder.child.stdin.write('go\n');
		expect(await holder.result).toBe('locked');
		expect(() => lockDataDir(dir)).toThrow(`another gateway (pid ${holder.child.pid}) is already serving`);
		holder.child.kill('SIGKILL');
		await exited(holder.child);
		const lock = lockDataDir(dir);
		lock.release();
	});
});
