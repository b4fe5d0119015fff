import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { serverFolder } from '../common/server-files';

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

/** The newest schema version these migrations reach (0 with none). */
export function latestVersion(migrations: readonly { version: number }[]): number {
	return Math.max(0, ...migrations.map((migration) => migration.version));
}

/** Applies every migration above `PRAGMA user_version`, each in its own immediate transaction. */
export function migrate(db: Database.Database, migrations = readMigrations()): number {
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

/**
 * The tables and columns the gateway's own database has at `version`: the migrations up to it applied to an
 * empty database. What `restore` compares a backup with before it replaces anything.
 */
export function schemaAt(version: number, migrations: readonly Migration[]): Map<string, Set<string>> {
	const db = new Database(':memory:');
	try {
		migrate(
			db,
			migrations.filter((migration) => migration.version <= version),
		);
		return tablesOf(db);
	} finally {
		db.close();
	}
}

/** The tables of a database (SQLite's own left out) with their columns. */
export function tablesOf(db: Database.Database): Map<string, Set<string>> {
	const names = db
		.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
		.pluck()
		.all() as string[];
	return new Map(
		names.map((name) => [
			name,
			new Set(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(name) as string[]),
		]),
	);
}
