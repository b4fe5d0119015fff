import type { Db } from './index';

/**
 * `PRAGMA data_version` moves when another connection commits; one prepared statement per database, read
 * at most once per synchronous stretch of code. Nothing this process does can observe another process's
 * commit within one stretch (no I/O happens in it), so a later read there would only cost time: the value
 * is kept until the next microtask, and every await, timer or I/O callback reads it afresh.
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
      if (current === undefined) {
        current = statement.get() as number;
        queueMicrotask(forget);
      }
      return current;
    };
    versionReaders.set(db, read);
  }
  return read;
}

/**
 * Rows the hot path reads on every request (API keys, accounts, instances), kept in memory and dropped
 * whenever the data may have changed: another connection committed (`PRAGMA data_version` moved, e.g.
 * the CLI revoked a key) or this process wrote to those tables (`invalidate()`). Revocation, pauses and
 * limit changes therefore take effect on the next request, as if nothing were cached.
 */
export class ReadCache<V> {
  private readonly rows = new Map<string | number, V | undefined>();
  private seenVersion = -1;
  private readonly version: () => number;

  constructor(
    db: Db,
    private readonly maxEntries = 10_000,
  ) {
    this.version = dataVersion(db);
  }

  get<K extends string | number>(key: K, load: (key: K) => V | undefined): V | undefined {
    const version = this.version();
    if (version !== this.seenVersion) {
      this.rows.clear();
      this.seenVersion = version;
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
