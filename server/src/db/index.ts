import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { serverFolder } from '../common/server-files';
import { backupBeforeMigrations } from './backup';
import { DATABASE_SIDECARS, ensurePrivateDir, ensurePrivateFile, PRIVATE_FILE_MODE } from './private-files';

export type Db = Database.Database;

/** Opens (creating if needed) the gateway database in WAL mode. `:memory:` gives a private database for tests. */
export function openDatabase(file: string): Db {
	if (file !== ':memory:') {
		ensurePrivateDir(path.dirname(file));
		ensurePrivateFile(file);
	}
	const db = new Database(file);
	db.pragma('journal_mode = WAL');
	if (file !== ':memory:') {
		for (const suffix of DATABASE_SIDECARS) {
			if (fs.existsSync(`${file}${suffix}`)) fs.chmodSync(`${file}${suffix}`, PRIVATE_FILE_MODE);
		}
	}
	// In WAL mode NORMAL keeps every committed transaction across a process crash (kill -9 included); only
	// a power loss or OS crash can drop the newest commits, never corrupt the file. docs/design-notes.md "Durability".
	db.pragma('synchronous = NORMAL');
	db.pragma('foreign_keys = ON');
	db.pragma('busy_timeout = 5000');
	const migrations = readMigrations();
	const backup = backupBeforeMigrations(db, file, migrations);
	if (backup)
		process.stderr.write(
			`whatsapp-gateway: upgrading the database schema; a copy of it was saved first to ${backup}\n`,
		);
	migrate(db, migrations);
	return db;
}

/** Where the numbered `NNN_name.sql` files live. */
const migrationsDir = () => serverFolder('migrations');

export interface Migration {
	version: number;
	name: string;
	sql: string;
}

export function readMigrations(dir = migrationsDir()): Migration[] {
	return fs
		.readdirSync(dir)
		.filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
		.map((file) => ({
			version: Number.parseInt(file, 10),
			name: file,
			sql: fs.readFileSync(path.join(dir, file), 'utf8'),
		}))
		.sort((a, b) => a.version - b.version);
}

/** Applies every migration above `PRAGMA user_version`, each in its own immediate transaction. */
export function migrate(db: Db, migrations = readMigrations()): number {
	let applied = 0;
	for (const migration of migrations) {
		const current = db.pragma('user_version', { simple: true }) as number;
		if (migration.version <= current) continue;
		db.transaction(() => {
			db.exec(migration.sql);
			db.pragma(`user_version = ${migration.version}`);
		}).immediate();
		applied += 1;
	}
	return applied;
}
