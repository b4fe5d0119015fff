import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { errorText } from '../common/error-text';
import { latestVersion, schemaAt, tablesOf, type Migration } from './migrations';
import { ensurePrivateDir, ensurePrivateFile, PRIVATE_FILE_MODE } from './private-files';

/** Automatic copies taken before migrations, kept in `<data dir>/backups/`; older ones are deleted. */
export const KEPT_MIGRATION_BACKUPS = 5;
export const BACKUP_FOLDER = 'backups';

export interface BackupInfo {
	file: string;
	bytes: number;
	schema_version: number;
	/** `PRAGMA quick_check` of the copy: "ok" or the first problem found. */
	check: string;
}

function schemaVersion(db: Database.Database): number {
	return db.pragma('user_version', { simple: true }) as number;
}

/** Opens a database file, runs `work` on it, and closes it whatever happens. */
function withDatabase<T>(file: string, work: (db: Database.Database) => T, options?: Database.Options): T {
	const db = new Database(file, options);
	try {
		return work(db);
	} finally {
		db.close();
	}
}

function describe(file: string): BackupInfo {
	return withDatabase(
		file,
		(copy) => {
			const check = copy.pragma('quick_check', { simple: true }) as string;
			return { file, bytes: fs.statSync(file).size, schema_version: schemaVersion(copy), check };
		},
		{ readonly: true, fileMustExist: true },
	);
}

/**
 * An online, consistent copy of a live database through SQLite's backup API (better-sqlite3's
 * `db.backup()`): the gateway keeps serving, and the copy is one committed state, WAL included. A plain
 * file copy of a WAL database while it runs can miss or tear the newest commits. Written to a temporary
 * name first, so a half-written backup never carries the target's name; created 0600 before a byte is
 * written, since it holds what the database holds (an empty file is an empty SQLite database).
 */
export async function backupDatabase(
	databasePath: string,
	target: string,
	options: { overwrite?: boolean } = {},
): Promise<BackupInfo> {
	if (!fs.existsSync(databasePath)) throw new Error(`no database at ${databasePath}`);
	const destination = path.resolve(target);
	if (destination === path.resolve(databasePath)) throw new Error('the backup file cannot be the database itself');
	if (fs.existsSync(destination) && !options.overwrite) {
		throw new Error(`${destination} exists; choose another file name or pass --force`);
	}
	fs.mkdirSync(path.dirname(destination), { recursive: true });
	const partial = `${destination}.partial`;
	fs.rmSync(partial, { force: true });
	const source = new Database(databasePath, { fileMustExist: true });
	try {
		source.pragma('busy_timeout = 5000');
		ensurePrivateFile(partial);
		await source.backup(partial);
		source.close();
		// A single self-contained file: the copy needs no -wal beside it.
		withDatabase(partial, (copy) => copy.pragma('journal_mode = DELETE'));
		fs.renameSync(partial, destination);
	} catch (error) {
		fs.rmSync(partial, { force: true });
		throw error;
	} finally {
		if (source.open) source.close();
	}
	return describe(destination);
}

/**
 * The dated copies `backup --keep` writes into a folder: `gateway-<UTC time>.db`, whose names sort as their
 * times do. Nothing else in that folder is ever pruned (the copies taken before migrations, say).
 */
const DATED_COPY = /^gateway-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.db$/;

export interface RotatedBackup extends BackupInfo {
	/** The older dated copies deleted to keep `keep` of them, oldest last. */
	pruned: string[];
}

/**
 * A backup into `folder` under a dated name, then the dated copies beyond the newest `keep` deleted: what a
 * nightly timer runs. Older copies go only once the new one has passed its check, and the new one is never
 * among them (a clock set back would otherwise sort it before copies it should follow).
 */
export async function backupRotating(
	databasePath: string,
	folder: string,
	keep: number,
	now: Date,
): Promise<RotatedBackup> {
	if (!Number.isInteger(keep) || keep < 1) throw new Error('--keep must be a whole number of copies, 1 or more');
	const dir = path.resolve(folder);
	if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
		throw new Error(`${dir} is not a folder: with --keep, <file> is the folder that holds the dated copies`);
	}
	ensurePrivateDir(dir);
	const info = await backupDatabase(databasePath, path.join(dir, `gateway-${stamp(now)}.db`));
	if (info.check !== 'ok') {
		throw new Error(`the copy ${info.file} failed SQLite's quick_check (${info.check}); no older copy was deleted`);
	}
	const older = fs
		.readdirSync(dir)
		.filter((name) => DATED_COPY.test(name) && path.join(dir, name) !== info.file)
		.sort()
		.reverse();
	const pruned = older.slice(keep - 1).map((name) => path.join(dir, name));
	for (const file of pruned) fs.rmSync(file, { force: true });
	return { ...info, pruned };
}

export interface RestoreResult {
	restored: BackupInfo;
	/** The database that was replaced, kept beside it (absent when there was none). */
	previous: string | undefined;
}

/**
 * Replaces the data folder's database with a backup. The caller holds the data-folder lock, so no
 * gateway serves it meanwhile. The backup is checked first (a SQLite file, quick_check ok, a schema this
 * version knows); the current database is kept as `gateway.db.before-restore-<time>`; its WAL and shared
 * memory files go, since they belong to the replaced file.
 */
export function restoreDatabase(
	databasePath: string,
	backupFile: string,
	migrations: readonly Migration[],
	now: Date,
): RestoreResult {
	const latestSchema = latestVersion(migrations);
	const source = path.resolve(backupFile);
	if (!fs.existsSync(source)) throw new Error(`no backup file at ${source}`);
	let restored: BackupInfo;
	try {
		restored = describe(source);
	} catch (error) {
		throw new Error(`${source} is not a readable SQLite database (${errorText(error)})`);
	}
	if (restored.check !== 'ok') throw new Error(`${source} failed SQLite's quick_check: ${restored.check}`);
	if (restored.schema_version < 1) throw new Error(`${source} is not a gateway database (schema version 0)`);
	if (restored.schema_version > latestSchema) {
		throw new Error(
			`${source} has schema version ${restored.schema_version}, newer than this gateway's ${latestSchema}: upgrade the gateway first`,
		);
	}
	const missing = missingSchema(source, schemaAt(restored.schema_version, migrations));
	if (missing) {
		throw new Error(
			`${source} is not a gateway database: its schema version ${restored.schema_version} would have ${missing}`,
		);
	}
	fs.mkdirSync(path.dirname(databasePath), { recursive: true });
	const incoming = `${databasePath}.restoring`;
	copyPrivately(source, incoming);
	let previous: string | undefined;
	if (fs.existsSync(databasePath)) {
		previous = `${databasePath}.before-restore-${stamp(now)}`;
		// Fold the WAL into the file first, so the kept copy is complete on its own.
		withDatabase(databasePath, (current) => current.pragma('wal_checkpoint(TRUNCATE)'));
		fs.renameSync(databasePath, previous);
	}
	for (const suffix of ['-wal', '-shm']) fs.rmSync(`${databasePath}${suffix}`, { force: true });
	fs.renameSync(incoming, databasePath);
	return { restored: { ...restored, file: source }, previous };
}

/** The first table or column of the gateway's schema that the file lacks, or undefined when it has them all. */
function missingSchema(file: string, expected: Map<string, Set<string>>): string | undefined {
	const actual = withDatabase(file, tablesOf, { readonly: true, fileMustExist: true });
	for (const [table, columns] of expected) {
		const has = actual.get(table);
		if (!has) return `a table ${table}`;
		for (const column of columns) if (!has.has(column)) return `a column ${table}.${column}`;
	}
	return undefined;
}

/**
 * The newest copy taken before a migration away from a schema this build knows (`known` or older), in the
 * database's backups folder: what to restore when a newer build upgraded the database. Undefined when none.
 */
export function migrationCopyFor(databasePath: string, known: number): string | undefined {
	const folder = path.join(path.dirname(path.resolve(databasePath)), BACKUP_FOLDER);
	if (!fs.existsSync(folder)) return undefined;
	const copy = migrationCopies(folder).find(({ name }) => Number(/^gateway-v(\d+)-/.exec(name)?.[1]) <= known);
	return copy && path.join(folder, copy.name);
}

/** The copies taken before migrations, newest first. */
function migrationCopies(folder: string): { name: string; at: number }[] {
	return fs
		.readdirSync(folder)
		.filter((name) => /^gateway-v\d+-before-v\d+-.+\.db$/.test(name))
		.map((name) => ({ name, at: fs.statSync(path.join(folder, name)).mtimeMs }))
		.sort((a, b) => b.at - a.at || b.name.localeCompare(a.name));
}

/**
 * Copies `from` into a new 0600 file `to`, whatever `from`'s mode: a plain copyFile gives the copy the
 * source's mode (a backup left 0644, say) for as long as it takes.
 */
function copyPrivately(from: string, to: string): void {
	fs.rmSync(to, { force: true });
	const output = fs.openSync(to, 'wx', PRIVATE_FILE_MODE);
	const input = fs.openSync(from, 'r');
	try {
		fs.fchmodSync(output, PRIVATE_FILE_MODE);
		const buffer = Buffer.allocUnsafe(1024 * 1024);
		for (let read; (read = fs.readSync(input, buffer, 0, buffer.length, null)) > 0;)
			fs.writeSync(output, buffer, 0, read);
	} catch (error) {
		fs.rmSync(to, { force: true });
		throw error;
	} finally {
		fs.closeSync(input);
		fs.closeSync(output);
	}
}

function stamp(date: Date): string {
	return date.toISOString().replace(/[:.]/g, '-');
}

/**
 * Before migrations change an existing database, a copy of it goes to `<data dir>/backups/`, named after
 * the versions (`gateway-v2-before-v3-<time>.db`); the newest KEPT_MIGRATION_BACKUPS stay. SQLite's
 * `VACUUM INTO` makes the copy: consistent like the backup API, and synchronous, as opening the database is.
 * A new database (version 0) or one without pending migrations is left alone. Returns the copy's path.
 */
export function backupBeforeMigrations(
	db: Database.Database,
	databasePath: string,
	migrations: readonly { version: number }[],
	now: Date = new Date(),
): string | undefined {
	if (databasePath === ':memory:') return undefined;
	const current = schemaVersion(db);
	const target = Math.max(0, ...migrations.map((migration) => migration.version));
	if (current === 0 || target <= current) return undefined;
	const folder = path.join(path.dirname(path.resolve(databasePath)), BACKUP_FOLDER);
	ensurePrivateDir(folder);
	const file = path.join(folder, `gateway-v${current}-before-v${target}-${stamp(now)}.db`);
	// VACUUM INTO writes into an empty file as into a new one: created 0600 first. A copy that failed
	// (a full disk) is removed rather than kept as one of the newest.
	ensurePrivateFile(file);
	try {
		db.prepare('VACUUM INTO ?').run(file);
	} catch (error) {
		fs.rmSync(file, { force: true });
		throw error;
	}
	pruneMigrationBackups(folder);
	return file;
}

function pruneMigrationBackups(folder: string): void {
	const copies = migrationCopies(folder);
	for (const old of copies.slice(KEPT_MIGRATION_BACKUPS)) fs.rmSync(path.join(folder, old.name), { force: true });
}
