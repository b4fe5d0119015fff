import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../server/src/db';
import { WalCheckpointer } from '../../server/src/db/checkpointer';

let dir: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-checkpointer-'));
  db = openDatabase(path.join(dir, 'gateway.db'));
});
afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const autocheckpoint = () => db.pragma('wal_autocheckpoint', { simple: true });

describe('the WAL checkpointer', () => {
  it('takes the checkpoints off the serving connection while it runs, and gives them back when stopped', async () => {
    const errors: string[] = [];
    const checkpointer = new WalCheckpointer(db, (message) => errors.push(message));
    expect(autocheckpoint()).toBe(1000);
    checkpointer.start(5);
    expect(autocheckpoint()).toBe(10_000);
    const insert = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    for (let i = 0; i < 200; i += 1) db.transaction(() => insert.run(`k${i}`, 'x'.repeat(500)))();
    await checkpointer.stop();
    expect(autocheckpoint()).toBe(1000);
    expect(errors).toEqual([]);
    db.close();
    const reopened = openDatabase(path.join(dir, 'gateway.db'));
    try {
      expect(reopened.prepare('SELECT COUNT(*) AS n FROM settings').get()).toEqual({ n: 200 });
    } finally {
      reopened.close();
    }
  });

  it('does nothing for a private in-memory database', async () => {
    const memory = openDatabase(':memory:');
    const checkpointer = new WalCheckpointer(memory, () => undefined);
    checkpointer.start();
    expect(memory.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.stop();
    memory.close();
  });
});
