import type { Db } from './index';

/**
 * `PRAGMA data_version` moves when another connection commits; one prepared statement per database, read
 * at most once per turn of the event loop. Outside a transaction each read costs SQLite a read lock (four
 * system calls) and under load that was an eighth of the gateway's CPU when it was read once per await.
 * Requests handled in the same turn are concurrent with a commit another process makes meanwhile, so
 * answering them as if they came just before it is a true order; from the next turn on every request
 * sees it. The value is kept until the event loop's check phase (setImmediate) and then read afresh.
 * Inside a transaction it is read every time and not kept: it costs nothing there, and the group commit
 * runs in the check phase, where a kept value would last into the next turn.
 */
const versionReaders = new WeakMap<Db, () => number>();

function dataVersion(db: Db): () => number {
	let read = versionReaders.get(db);
	if (!read) {
		const statement = db.prepare('PRAGMA data_version').pluck();
		let current: number | undefined;
		const forget = () => {
			current = undefined;
		};
		read = () => {
			if (db.inTransaction) return statement.get() as number;
			if (current === undefined) {
				current = statement.get() as number;
				setImmediate(forget);
			}
			return current;
		};
		versionReaders.set(db, read);
	}
	return read;
}

/** Rollbacks of this process's transactions per database: a rolled-back write does not move data_version. */
const rollbacks = new WeakMap<Db, number>();

/**
 * Tells every read cache of `db` that a transaction rolled back: a row a job cached after writing it inside
 * the transaction (an instance it paused) may be one the database no longer has.
 */
export function noteRollback(db: Db): void {
	rollbacks.set(db, (rollbacks.get(db) ?? 0) + 1);
}

/**
 * Rows the hot path reads on every request (API keys, accounts, instances), kept in memory and dropped
 * whenever the data may have changed: another connection committed (`PRAGMA data_version` moved, e.g.
 * the CLI revoked a key), this process wrote to those tables (`invalidate()`) or one of its transactions
 * rolled back (`noteRollback`). Revocation, pauses and limit changes therefore take effect from the next
 * turn of the event loop, as if nothing were cached.
 */
export class ReadCache<V> {
	private readonly rows = new Map<string | number, V | undefined>();
	private seenVersion = -1;
	private seenRollbacks = 0;
	private readonly version: () => number;

	constructor(
		private readonly db: Db,
		private readonly maxEntries = 10_000,
	) {
		this.version = dataVersion(db);
	}

	get<K extends string | number>(key: K, load: (key: K) => V | undefined): V | undefined {
		const version = this.version();
		const rolledBack = rollbacks.get(this.db) ?? 0;
		if (version !== this.seenVersion || rolledBack !== this.seenRollbacks) {
			this.rows.clear();
			this.seenVersion = version;
			this.seenRollbacks = rolledBack;
		}
		if (this.rows.has(key)) return this.rows.get(key);
		const value = load(key);
		if (this.rows.size >= this.maxEntries) this.rows.clear();
		this.rows.set(key, value);
		return value;
	}

	invalidate(): void {
		this.rows.clear();
	}
}
