import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../server/bin/ensure-built.js');

/**
 * `npm start` runs server/bin/ensure-built.js first. It is tried on a copy laid out like the repository
 * (server/src, server/tsconfig.json, contract/src, server/dist, contract/dist) without node_modules: when the build is
 * current it must not look for TypeScript at all; when it is stale it must, and without TypeScript it
 * stops with a reason instead of starting an old build.
 */
describe('server/bin/ensure-built.js (npm start)', () => {
	let root: string;
	const at = (minutes: number) => new Date(Date.UTC(2026, 4, 8, 10, minutes));
	const write = (file: string, minutes: number) => {
		const full = path.join(root, file);
		fs.mkdirSync(path.dirname(full), { recursive: true });
		fs.writeFileSync(full, '// test\n');
		fs.utimesSync(full, at(minutes), at(minutes));
	};
	const run = () => {
		fs.mkdirSync(path.join(root, 'server/bin'), { recursive: true });
		fs.copyFileSync(SCRIPT, path.join(root, 'server/bin/ensure-built.js'));
		return spawnSync(process.execPath, [path.join(root, 'server/bin/ensure-built.js')], {
			encoding: 'utf8',
			env: { PATH: process.env.PATH },
		});
	};

	beforeEach(() => {
		root = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-ensure-built-'));
		write('server/src/gateway.ts', 1);
		write('server/tsconfig.json', 1);
		write('contract/src/signature.ts', 1);
		write('contract/tsconfig.json', 1);
		write('server/dist/cli/main.js', 5);
		write('server/dist/.tsbuildinfo', 5);
		write('contract/dist/index.js', 5);
	});
	afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

	it('does nothing when the build is newer than every source', () => {
		const result = run();
		expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
			status: 0,
			stdout: '',
			stderr: '',
		});
	});

	it.each([
		['a server source changed', () => write('server/src/gateway.ts', 9)],
		['a contract source changed', () => write('contract/src/signature.ts', 9)],
		['the build is missing', () => fs.rmSync(path.join(root, 'server/dist/cli/main.js'))],
		["the contract's build is missing", () => fs.rmSync(path.join(root, 'contract/dist/index.js'))],
	])('rebuilds when %s (and says why it cannot without TypeScript)', (_label, change) => {
		change();
		const result = run();
		expect(result.status).toBe(1);
		expect(result.stderr).toMatch(/missing or older than the sources, and TypeScript is not installed/);
		expect(result.stderr).toMatch(/npm ci -w server/);
	});
});
