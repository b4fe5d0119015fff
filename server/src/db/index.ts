import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { serverFolder } from '../common/server-files';
import { backupBeforeMigrations } from './backup';

export type Db = Database.Database;

/**
 * The data folder holds webhook signing secrets, message texts and phone numbers: it is created 0700 and
 * every database file in it is 0600, whatever the umask (an explicit chmod, since the umask only narrows).
 */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
/** SQLite's companion files; it creates them with the database file's mode, and they are chmod-ed too. */
const DATABASE_SIDECARS = ['-wal', '-shm', '-journal'];

/** Creates the folder (and missing parents) 0700; an existing folder is left as the operator made it. */
export function ensurePrivateDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  const created = fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created === undefined) return;
  // mkdir's mode is narrowed by the umask: every folder this call created is set to 0700 exactly.
  const top = path.resolve(created);
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    fs.chmodSync(current, PRIVATE_DIR_MODE);
    if (current === top || current === path.dirname(current)) break;
  }
}

/** Creates the file if needed and makes it 0600 (existing files included: older installs made them 0644). */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
  fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** A warning for the start-up log when an existing data folder is open to other users, else undefined. */
export function dataDirExposure(dir: string): string | undefined {
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `the data folder ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); it holds webhook signing secrets and messages: chmod 700 it`;
}

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
  if (backup) process.stderr.write(`whatsapp-gateway: upgrading the database schema; a copy of it was saved first to ${backup}\n`);
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
