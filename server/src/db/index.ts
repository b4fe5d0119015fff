import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { backupBeforeMigrations } from './backup';

export type Db = Database.Database;

/** Opens (creating if needed) the gateway database in WAL mode. `:memory:` gives a private database for tests. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
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

/** Where the numbered `NNN_name.sql` files live, found from the source tree or the build output alike. */
function migrationsDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'migrations');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('server/migrations not found');
    dir = parent;
  }
}

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
