import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { backupRotating } from '../../server/src/db/backup';
import { cli, tempDir } from '../helpers/cli';
import { fileMode } from '../helpers/files';

let dir: string;
let data: string;
let database: string;
beforeEach(async () => {
	dir = tempDir('wg-rotation-');
	data = path.join(dir, 'data');
	database = path.join(data, 'gateway.db');
	expect((await cli(data, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const at = (iso: string) => new Date(iso);
const datedName = (iso: string) => `gateway-${iso.replace(/[:.]/g, '-')}.db`;

/** Files standing in for older copies: only their names matter to the pruning. */
function place(folder: string, names: string[]): void {
	fs.mkdirSync(folder, { recursive: true });
	for (const name of names) fs.writeFileSync(path.join(folder, name), 'an older copy');
}

describe('backup --keep: dated copies in a folder, the newest N kept', () => {
	it('writes gateway-<UTC time>.db, checked and private, and deletes only the oldest dated copies beyond N', async () => {
		const folder = path.join(dir, 'nightly');
		const old = [
			'2026-05-03T02:00:00.000Z',
			'2026-05-04T02:00:00.000Z',
			'2026-05-05T02:00:00.000Z',
			'2026-05-06T02:00:00.000Z',
			'2026-05-07T02:00:00.000Z',
		].map(datedName);
		// Copies taken before migrations, a manual copy and notes share the folder and are never pruned.
		const others = ['gateway-v3-before-v4-2026-01-01T00-00-00-000Z.db', 'before-upgrade.db', 'README.txt'];
		place(folder, [...old, ...others]);

		const result = await backupRotating(database, folder, 3, at('2026-05-08T02:00:00.000Z'));

		const made = path.join(folder, datedName('2026-05-08T02:00:00.000Z'));
		expect(result).toMatchObject({ file: made, check: 'ok' });
		expect(fileMode(made)).toBe('600');
		expect(result.pruned).toEqual(
			old
				.slice(0, 3)
				.reverse()
				.map((name) => path.join(folder, name)),
		);
		expect(fs.readdirSync(folder).sort()).toEqual([...old.slice(3), path.basename(made), ...others].sort());
		const copy = new Database(made, { readonly: true });
		expect(copy.prepare("SELECT name FROM accounts WHERE name = 'Clinic'").get()).toEqual({ name: 'Clinic' });
		copy.close();
	});

	it('never deletes the copy it just made, even when the clock was set back behind older names', async () => {
		const folder = path.join(dir, 'nightly');
		place(folder, ['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z'].map(datedName));
		const result = await backupRotating(database, folder, 1, at('2026-05-08T02:00:00.000Z'));
		expect(fs.readdirSync(folder)).toEqual([path.basename(result.file)]);
	});

	it('creates the folder 0700; refuses a file where the folder should be, and fewer than one copy', async () => {
		const folder = path.join(dir, 'new', 'nightly');
		await backupRotating(database, folder, 2, at('2026-05-08T02:00:00.000Z'));
		expect(fileMode(folder)).toBe('700');
		const file = path.join(dir, 'a-file.db');
		fs.writeFileSync(file, 'x');
		await expect(backupRotating(database, file, 2, new Date())).rejects.toThrow(/is not a folder/);
		await expect(backupRotating(database, folder, 0, new Date())).rejects.toThrow(/1 or more/);
	});

	it('the CLI: `backup --keep 2 <folder>` run three times leaves the two newest; bad uses are refused', async () => {
		const folder = path.join(dir, 'nightly');
		const made: string[] = [];
		for (let run = 0; run < 3; run += 1) {
			const result = await cli(data, 'backup', '--keep', '2', folder, '--json');
			expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
			const info = result.json() as { file: string; check: string; pruned: string[] };
			expect(info.check).toBe('ok');
			expect(path.basename(info.file)).toMatch(/^gateway-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/);
			expect(info.pruned).toEqual(run < 2 ? [] : [made[0]]);
			made.push(info.file);
		}
		expect(fs.readdirSync(folder).sort()).toEqual(made.slice(1).map((file) => path.basename(file)));

		const human = await cli(data, 'backup', '--keep', '1', folder);
		expect(human.stdout).toMatch(
			/^backup written: .+ check ok\)\ndeleted the older copy .+\ndeleted the older copy .+\n$/,
		);
		expect((await cli(data, 'backup', '--keep', '2', '--force', folder)).stderr).toMatch(/--force does not apply/);
		expect((await cli(data, 'backup', '--keep', 'all', folder)).code).toBe(2);
		expect((await cli(data, 'backup', '--keep', '0', folder)).stderr).toMatch(/1 or more/);
	});
});
