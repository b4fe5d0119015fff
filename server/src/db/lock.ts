import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, ensurePrivateFile } from './private-files';

export interface DataDirLock {
	file: string;
	release(): void;
}

/** Lock files this process holds (a second gateway in the same process, as tests start them). */
const heldHere = new Set<string>();

/** SQLite's answer when another connection holds the lock. */
const LOCK_BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);
/** How long one try waits for a contender to step back, and how long a start keeps trying (see takeLock). */
const LOCK_BUSY_TIMEOUT_MS = 100;
const LOCK_DEADLINE_MS = 1500;

/**
 * One serving gateway per data folder: quota counters and velocity state live in that process's memory,
 * and start-up recovery would otherwise settle another live process's in-flight sends.
 *
 * The lock is an exclusive SQLite lock (a POSIX record lock underneath) on `gateway.lock`, taken by a write
 * transaction in `locking_mode=EXCLUSIVE` and held until the process closes it or dies: the operating
 * system releases it with the process, so nothing stale is ever left to take over, and two processes
 * starting at once cannot both get it. `gateway.pid` only says, for people and for the refusal message,
 * which process holds it; it is never trusted to decide anything.
 */
export function lockDataDir(dataDir: string): DataDirLock {
	ensurePrivateDir(dataDir);
	const dir = path.resolve(dataDir);
	const file = path.join(dir, 'gateway.lock');
	const pidFile = path.join(dir, 'gateway.pid');
	if (heldHere.has(file))
		throw new Error(`another gateway (pid ${process.pid}) is already serving ${dataDir}; stop it first`);
	ensurePrivateFile(file);
	let db: Database.Database;
	try {
		db = takeLockRecovering(file);
	} catch (error) {
		if (isBusy(error)) {
			const holder = readPid(pidFile);
			throw new Error(
				`another gateway${holder ? ` (pid ${holder})` : ''} is already serving ${dataDir}; stop it first`,
			);
		}
		throw new Error(`cannot lock ${file}: ${(error as Error).message}`);
	}
	heldHere.add(file);
	try {
		fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
		fs.chmodSync(pidFile, 0o600);
	} catch {
		// The pid file is for people only; the lock above is what counts.
	}
	return {
		file,
		release: () => {
			if (!heldHere.delete(file)) return;
			if (readPid(pidFile) === process.pid) fs.rmSync(pidFile, { force: true });
			db.close();
		},
	};
}

/** SQLite's answers for a file that is not a database, or not a whole one. */
const NOT_A_DATABASE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * A `gateway.lock` that is not a lock database (truncated, overwritten) is reset and taken. That is safe:
 * SQLite reads the header under a shared lock, which it could not have had while a gateway held the file's
 * exclusive lock (that answers busy, and the start is refused). The file is emptied in place, never
 * replaced, so the lock stays on the same file for everyone: a start racing this one still meets it.
 */
function takeLockRecovering(file: string): Database.Database {
	try {
		return takeLock(file);
	} catch (error) {
		const code = (error as { code?: string }).code ?? '';
		if (!NOT_A_DATABASE.has(code)) throw error;
		process.stderr.write(
			`whatsapp-gateway: ${file} was not a lock database (${(error as Error).message}); it was reset\n`,
		);
		fs.truncateSync(file, 0);
		return takeLock(file);
	}
}

/**
 * Two processes starting at the same instant both take SQLite's shared lock on the way to the exclusive
 * one, and in exclusive locking mode a connection keeps whatever lock it got, so the one refused must
 * close its connection (letting go of its shared lock) for the other to finish. So each try is a fresh
 * connection; a busy one is closed and tried again after a short random pause, until LOCK_DEADLINE_MS has
 * passed. A lock held by a running gateway refuses every try, and the start is refused after the deadline.
 */
function takeLock(file: string): Database.Database {
	const deadline = Date.now() + LOCK_DEADLINE_MS;
	for (;;) {
		const db = new Database(file, { timeout: LOCK_BUSY_TIMEOUT_MS });
		try {
			db.pragma('locking_mode = EXCLUSIVE');
			db.pragma('journal_mode = MEMORY');
			db.transaction(() => {
				db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since INTEGER NOT NULL)');
				db.exec('DELETE FROM holder');
				db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, Date.now());
			}).exclusive();
			return db;
		} catch (error) {
			db.close();
			if (!isBusy(error) || Date.now() >= deadline) throw error;
			// A blocking pause is fine here: this runs once, before the gateway serves anything.
			Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.floor(Math.random() * 40));
		}
	}
}

function isBusy(error: unknown): boolean {
	return LOCK_BUSY.has((error as { code?: string }).code ?? '');
}

function readPid(file: string): number | undefined {
	try {
		const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
		return Number.isInteger(pid) ? pid : undefined;
	} catch {
		return undefined;
	}
}
