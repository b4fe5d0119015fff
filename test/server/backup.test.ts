import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../server/src/config';
import { migrate, openDatabase, readMigrations } from '../../server/src/db';
import { createLogger } from '../../server/src/logger';
import { backupBeforeMigrations, KEPT_MIGRATION_BACKUPS } from '../../server/src/db/backup';
import { startServer, type RunningServer } from '../../server/src/server';
import { cli, tempDir } from '../helpers/cli';
import { fileMode, withOpenUmask } from '../helpers/files';

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-backup-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function start(dataDir: string): Promise<{ running: RunningServer; printed: string; url: string }> {
	let printed = '';
	const config = loadConfig({
		PORT: '0',
		HOST: '127.0.0.1',
		GATEWAY_DATA_DIR: dataDir,
		GATEWAY_LOG_LEVEL: 'silent',
		GATEWAY_ADMIN_TOKEN: 'backup-test-operator-token-0123456789',
		GATEWAY_SANDBOX_STATUS_DELAY_MS: '3600000',
	});
	const running = await startServer(config, {
		print: (text) => (printed += text),
		terminal: true,
		logger: createLogger('silent'),
	});
	const { port } = running.server.address() as { port: number };
	return { running, printed, url: `http://127.0.0.1:${port}` };
}

interface LogRow {
	id: number;
	phone: string;
	message_text: string;
	status: string;
	instance_id: string;
}

function logRows(file: string): LogRow[] {
	const db = new Database(file, { readonly: true, fileMustExist: true });
	try {
		return db
			.prepare<[], LogRow>('SELECT id, phone, message_text, status, instance_id FROM message_log ORDER BY id')
			.all();
	} finally {
		db.close();
	}
}

describe('backup and restore', () => {
	it('a backup taken while sends are running restores to a gateway serving the same keys, instances and log', async () => {
		const original = path.join(dir, 'original');
		const restoredDir = path.join(dir, 'restored');
		const backupFile = path.join(dir, 'copies', 'gateway-backup.db');
		const first = await start(original);
		const apiKey = /API key:\s+(wg_live_\w+)/.exec(first.printed)![1];
		const auth = { Authorization: `Bearer ${apiKey}` };
		// Room for every send: quotas and velocity would otherwise refuse most of them (refusals are logged too).
		first.running.gateway.accounts.update(1, {
			dailyLimit: 10_000,
			monthlyLimit: 10_000,
			instanceRatePerMinute: 100_000,
			recipientRatePerMinute: 100_000,
		});

		const TOTAL = 120;
		let sent = 0;
		let backupAfter = -1;
		const send = async (i: number) => {
			const res = await fetch(`${first.url}/api/send-message`, {
				method: 'POST',
				headers: { ...auth, 'Content-Type': 'application/json' },
				body: JSON.stringify({
					instance_id: 'demo-support-line',
					phone: `+96650123${String(10_000 + i).slice(1)}`,
					message: `Your order #${i} has shipped.`,
					message_purpose: 'transactional',
				}),
			});
			expect(res.status).toBe(200);
			sent += 1;
		};
		const senders = Array.from({ length: 6 }, async (_, worker) => {
			for (let i = worker; i < TOTAL; i += 6) await send(i);
		});
		// The backup starts once sends are under way, and runs while they go on.
		while (sent < 30) await new Promise((resolve) => setTimeout(resolve, 2));
		backupAfter = sent;
		const backup = await cli(original, 'backup', backupFile, '--json');
		const sentWhenDone = sent;
		await Promise.all(senders);
		expect(backup.stderr).toBe('');
		expect(backup.code).toBe(0);
		const info = backup.json() as { file: string; bytes: number; schema_version: number; check: string };
		expect(info).toMatchObject({ file: backupFile, check: 'ok', schema_version: readMigrations().at(-1)!.version });
		expect(fs.existsSync(`${backupFile}-wal`)).toBe(false);

		// While the gateway serves the folder, restore refuses and changes nothing.
		const refused = await cli(original, 'restore', backupFile);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(
			/^whatsapp-gateway: refusing to restore: another gateway \(pid \d+\) is already serving/,
		);

		const instances = await (await fetch(`${first.url}/api/instances`, { headers: auth })).json();
		await first.running.stop();

		// The backup is one consistent state: a prefix of the log, each row as the original has it.
		const finalRows = logRows(path.join(original, 'gateway.db'));
		expect(finalRows).toHaveLength(TOTAL);
		const backedUp = logRows(backupFile);
		expect(backedUp.length).toBeGreaterThanOrEqual(backupAfter);
		expect(backedUp.length).toBeLessThanOrEqual(sentWhenDone + 6);
		expect(backedUp.length).toBeLessThan(TOTAL);
		const byId = new Map(finalRows.map((row) => [row.id, row]));
		for (const row of backedUp) {
			const later = byId.get(row.id)!;
			expect({ ...row, status: undefined }).toEqual({ ...later, status: undefined });
			expect(['sent', 'sending']).toContain(row.status);
		}

		// Restored into another folder, a gateway serves the same key, instances and log.
		const restore = await cli(restoredDir, 'restore', backupFile, '--json');
		expect(restore.stderr).toBe('');
		expect(restore.code).toBe(0);
		expect(restore.json()).toMatchObject({ restored_from: backupFile, previous: null });
		const second = await start(restoredDir);
		try {
			expect(second.printed).not.toMatch(/API key:\s+wg_live_/);
			expect(second.printed).toContain(`WhatsApp Gateway is running at http://localhost:`);
			expect(second.printed).toContain('npx whatsapp-gateway keys create --account 1');
			expect(await (await fetch(`${second.url}/api/instances`, { headers: auth })).json()).toEqual(instances);
			const me = await fetch(`${second.url}/api/me`, { headers: auth });
			expect(me.status).toBe(200);
			for (const row of backedUp) {
				const res = await fetch(`${second.url}/api/messages/${row.id}`, { headers: auth });
				expect(res.status).toBe(200);
				const { message } = (await res.json()) as { message: { phone: string; status: string } };
				expect(message.phone).toBe(row.phone);
				// A send that was with the provider at backup time is settled as unknown by the restored gateway.
				expect(message.status).toBe(row.status === 'sending' ? 'unknown' : row.status);
			}
			const next = await fetch(`${second.url}/api/messages/${backedUp.length + 1}`, { headers: auth });
			expect(next.status).toBe(404);
		} finally {
			await second.running.stop();
		}

		// Restoring over an existing database keeps the replaced one beside it.
		const again = await cli(restoredDir, 'restore', backupFile, '--json');
		expect(again.code).toBe(0);
		const previous = (again.json() as { previous: string }).previous;
		expect(previous).toMatch(/gateway\.db\.before-restore-/);
		expect(logRows(previous).length).toBe(backedUp.length);
	}, 60_000);

	it('backup refuses to overwrite a file unless --force; restore refuses what is not a gateway database', async () => {
		const data = path.join(dir, 'data');
		expect((await cli(data, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
		const file = path.join(dir, 'copy.db');
		expect((await cli(data, 'backup', file)).code).toBe(0);
		const twice = await cli(data, 'backup', file);
		expect(twice.code).toBe(1);
		expect(twice.stderr).toMatch(/exists; choose another file name or pass --force/);
		expect((await cli(data, 'backup', file, '--force')).code).toBe(0);
		// A copy that cannot take the target's name (a folder there) fails and leaves no partial file behind.
		const folder = path.join(dir, 'a-folder');
		fs.mkdirSync(folder);
		expect((await cli(data, 'backup', folder, '--force')).code).toBe(1);
		expect(fs.readdirSync(dir).filter((name) => name.endsWith('.partial'))).toEqual([]);

		const notSqlite = path.join(dir, 'notes.txt');
		fs.writeFileSync(notSqlite, 'hello');
		const bad = await cli(data, 'restore', notSqlite);
		expect(bad.code).toBe(1);
		expect(bad.stderr).toMatch(/is not a readable SQLite database/);
		const empty = path.join(dir, 'empty.db');
		new Database(empty).close();
		expect((await cli(data, 'restore', empty)).stderr).toMatch(/not a gateway database/);
		const future = path.join(dir, 'future.db');
		const db = new Database(future);
		db.pragma('user_version = 999');
		db.close();
		expect((await cli(data, 'restore', future)).stderr).toMatch(/schema version 999, newer than this gateway's/);
		expect((await cli(data, 'accounts', 'list', '--json')).json()).toHaveLength(1);
	});

	it('restore refuses a foreign SQLite file with a plausible schema version, and the database stays as it was', async () => {
		const data = path.join(dir, 'data');
		expect((await cli(data, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
		const latest = readMigrations().at(-1)!.version;
		const foreign = path.join(dir, 'someone-elses.db');
		const db = new Database(foreign);
		db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE notes (body TEXT)');
		db.pragma(`user_version = ${latest}`);
		db.close();
		const refused = await cli(data, 'restore', foreign);
		expect([refused.code, refused.stderr]).toEqual([
			1,
			expect.stringMatching(new RegExp(`is not a gateway database: its schema version ${latest} would have a `)),
		]);
		// An older gateway database missing a later table is judged against its own version's schema.
		const partial = path.join(dir, 'partial.db');
		const older = new Database(partial);
		migrate(older, readMigrations().slice(0, 3));
		older.exec('DROP TABLE webhooks');
		older.close();
		expect((await cli(data, 'restore', partial)).stderr).toMatch(/is not a gateway database: .* a table webhooks/);
		expect(fs.readdirSync(data).filter((name) => name.includes('before-restore'))).toEqual([]);
		const served = await start(data);
		try {
			expect((await fetch(`${served.url}/`)).status).toBe(200);
		} finally {
			await served.running.stop();
		}
		expect((await cli(data, 'accounts', 'list', '--json')).json()).toHaveLength(1);
	});

	it('serve and the CLI refuse a database a newer build upgraded, naming the copy taken before the upgrade', async () => {
		const data = path.join(dir, 'data');
		expect((await cli(data, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
		const migrations = readMigrations();
		const latest = migrations.at(-1)!.version;
		// What a newer build's start does: a copy before its migration, then the migration.
		const file = path.join(data, 'gateway.db');
		const db = new Database(file);
		const copy = backupBeforeMigrations(db, file, [...migrations, { version: latest + 1 }], new Date());
		db.exec('CREATE TABLE from_the_future (id INTEGER PRIMARY KEY)');
		db.pragma(`user_version = ${latest + 1}`);
		db.close();
		expect(copy).toMatch(new RegExp(`gateway-v${latest}-before-v${latest + 1}-`));

		const listed = await cli(data, 'accounts', 'list');
		expect(listed.code).toBe(1);
		expect(listed.stderr).toContain(`has schema version ${latest + 1}, newer than this gateway's ${latest}`);
		expect(listed.stderr).toContain(`whatsapp-gateway restore ${copy}`);
		await expect(start(data)).rejects.toThrow(`whatsapp-gateway restore ${copy}`);
		// Nothing was changed: the version stays, and the named copy restores to a database this build serves.
		const after = new Database(file, { readonly: true });
		expect(after.pragma('user_version', { simple: true })).toBe(latest + 1);
		after.close();
		expect((await cli(data, 'restore', copy!)).code).toBe(0);
		expect((await cli(data, 'accounts', 'list', '--json')).json()).toHaveLength(1);
	});
});

describe('copies of the database are private', () => {
	// The CLI runs in this process, under this umask.
	withOpenUmask();
	const mode = fileMode;

	it('a backup (new or overwritten), the copy before a migration and a restored database are 0600, whatever the umask', async () => {
		const data = path.join(dir, 'data');
		expect((await cli(data, 'accounts', 'create', '--name', 'Clinic')).code).toBe(0);
		const file = path.join(dir, 'backups', 'copy.db');
		expect((await cli(data, 'backup', file)).code).toBe(0);
		expect(mode(file)).toBe('600');
		fs.chmodSync(file, 0o644);
		expect((await cli(data, 'backup', file, '--force')).code).toBe(0);
		expect(mode(file)).toBe('600');

		// A backup made readable by others (copied around, say) still restores as a private database.
		fs.chmodSync(file, 0o644);
		const restored = await cli(data, 'restore', file, '--json');
		expect(restored.code).toBe(0);
		expect(mode(path.join(data, 'gateway.db'))).toBe('600');
		expect(mode((restored.json() as { previous: string }).previous)).toBe('600');

		const old = path.join(dir, 'old', 'gateway.db');
		fs.mkdirSync(path.dirname(old));
		const v1 = new Database(old);
		migrate(v1, readMigrations().slice(0, 1));
		v1.close();
		openDatabase(old).close();
		const [copy] = fs.readdirSync(path.join(dir, 'old', 'backups'));
		expect(mode(path.join(dir, 'old', 'backups'))).toBe('700');
		expect(mode(path.join(dir, 'old', 'backups', copy))).toBe('600');
	});
});

describe('automatic backup before migrations', () => {
	it('copies an existing database into backups/ before upgrading its schema, not a new one', () => {
		const file = path.join(dir, 'gateway.db');
		const migrations = readMigrations();
		expect(migrations.length).toBeGreaterThan(1);
		const old = new Database(file);
		migrate(old, migrations.slice(0, 1));
		old.prepare("INSERT INTO settings (key, value) VALUES ('marker', 'before upgrade')").run();
		old.close();

		const upgraded = openDatabase(file);
		expect(upgraded.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
		upgraded.close();
		const copies = fs.readdirSync(path.join(dir, 'backups'));
		expect(copies).toHaveLength(1);
		expect(copies[0]).toMatch(new RegExp(`^gateway-v1-before-v${migrations.at(-1)!.version}-.+\\.db$`));
		const copy = new Database(path.join(dir, 'backups', copies[0]), { readonly: true });
		expect(copy.pragma('user_version', { simple: true })).toBe(1);
		expect(copy.prepare("SELECT value FROM settings WHERE key = 'marker'").get()).toEqual({ value: 'before upgrade' });
		copy.close();

		// Up to date now: opening again takes no copy. A new database takes none either.
		openDatabase(file).close();
		openDatabase(path.join(dir, 'fresh', 'gateway.db')).close();
		expect(fs.readdirSync(path.join(dir, 'backups'))).toHaveLength(1);
		expect(fs.existsSync(path.join(dir, 'fresh', 'backups'))).toBe(false);
	});

	it(`keeps the newest ${KEPT_MIGRATION_BACKUPS} copies`, () => {
		const file = path.join(dir, 'gateway.db');
		const db = new Database(file);
		migrate(db, readMigrations().slice(0, 1));
		const taken: string[] = [];
		for (let i = 0; i < KEPT_MIGRATION_BACKUPS + 3; i += 1) {
			const copy = backupBeforeMigrations(db, file, readMigrations(), new Date(Date.UTC(2026, 0, 1, 0, i)))!;
			// Distinct modification times, oldest first, as copies taken on different days would have.
			fs.utimesSync(copy, new Date(Date.UTC(2026, 0, 1, 0, i)), new Date(Date.UTC(2026, 0, 1, 0, i)));
			taken.push(path.basename(copy));
		}
		db.close();
		expect(fs.readdirSync(path.join(dir, 'backups')).sort()).toEqual(taken.slice(-KEPT_MIGRATION_BACKUPS).sort());
	});
});
