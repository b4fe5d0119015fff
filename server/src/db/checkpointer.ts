import { Worker } from 'node:worker_threads';
import type { Db } from './index';

/** SQLite's own default: the connection that commits past this many WAL pages checkpoints, in its thread. */
const INLINE_CHECKPOINT_PAGES = 1000;
/** While the worker checkpoints, the serving connection does so itself only past this (the worker is late or gone). */
const FALLBACK_CHECKPOINT_PAGES = 10_000;

/**
 * The worker's code, evaluated as a script (the build and the TypeScript test runner alike can start it):
 * its own connection to the database runs a PASSIVE checkpoint every `intervalMs` — it copies committed WAL
 * pages into the database file and syncs it, never waits for a lock and never blocks a writer.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints the write-ahead log from a worker thread, so the copy into the database file and its fsync
 * use the machine's other core instead of stalling the event loop inside a commit. Durability is SQLite's
 * either way: a commit is in the WAL before it is answered, whichever thread checkpoints it later. If the
 * worker fails, the serving connection goes back to checkpointing itself.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly onError: (message: string) => void,
  ) {}

  start(intervalMs = 100): void {
    if (this.worker || this.db.memory) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.db.name, driver: require.resolve('better-sqlite3'), intervalMs },
    });
    // Never what keeps the process alive: a gateway closed without stop() still exits.
    worker.unref();
    this.worker = worker;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
    worker.on('message', (message: { error?: string }) => {
      if (message.error) this.onError(message.error);
    });
    worker.on('error', (error) => {
      this.onError(error.message);
      this.inline();
    });
  }

  /** Stops the worker (its connection closed) and lets the serving connection checkpoint again. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    // Held alive until it has closed its connection.
    worker.ref();
    worker.postMessage('stop');
    await this.exited;
    this.inline();
  }

  private inline(): void {
    this.worker = undefined;
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
  }
}
