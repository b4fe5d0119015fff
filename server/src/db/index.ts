import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { backupBeforeMigrations, migrationCopyFor } from './backup';
import { latestVersion, migrate, readMigrations, type Migration } from './migrations';

export { migrate, readMigrations, type Migration };
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
	refuseNewerSchema(db, file, latestVersion(migrations));
	const backup = backupBeforeMigrations(db, file, migrations);
	if (backup)
		process.stderr.write(
			`whatsapp-gateway: upgrading the database schema; a copy of it was saved first to ${backup}\n`,
		);
	migrate(db, migrations);
	return db;
}

/**
 * A database a newer build has migrated is never served or changed by an older one (its migrations would
 * not run, and the code would misread tables it does not know): the start stops, naming the copy the
 * upgrade took, which this build can restore.
 */
function refuseNewerSchema(db: Db, file: string, known: number): void {
	const version = db.pragma('user_version', { simple: true }) as number;
	if (version <= known) return;
	db.close();
	const copy = file === ':memory:' ? undefined : migrationCopyFor(file, known);
	throw new Error(
		`${file} has schema version ${version}, newer than this gateway's ${known}: a newer build upgraded it. ` +
			(copy
				? `Run that build again, or restore the copy taken before the upgrade: whatsapp-gateway restore ${copy}`
				: 'Run that build again, or restore a backup taken with this build (whatsapp-gateway restore <file>).'),
	);
}
