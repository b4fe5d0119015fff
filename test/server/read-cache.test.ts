import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Db } from '../../server/src/db';
import { CommitQueue } from '../../server/src/db/commit-queue';
import { ReadCache } from '../../server/src/db/read-cache';

let dir: string;
let mine: Db;
let other: Db;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-read-cache-'));
	mine = openDatabase(path.join(dir, 'gateway.db'));
	other = openDatabase(path.join(dir, 'gateway.db'));
	mine.exec("INSERT INTO settings (key, value) VALUES ('greeting', 'hello')");
});
afterEach(() => {
	mine.close();
	other.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the read cache', () => {
	it('sees another connection’s commit from the next turn of the event loop on, and reads data_version once per turn', async () => {
		const cache = new ReadCache<string>(mine);
		const select = mine.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
		let loads = 0;
		const read = () =>
			cache.get('greeting', (key) => {
				loads += 1;
				return select.get(key)?.value;
			});
		expect(read()).toBe('hello');
		expect(read()).toBe('hello');
		expect(loads).toBe(1);

		other.prepare("UPDATE settings SET value = 'bye' WHERE key = 'greeting'").run();
		// Within the turn the commit is concurrent with: the reading it started with.
		await Promise.resolve();
		expect(read()).toBe('hello');
		expect(loads).toBe(1);
		await nextTurn();
		expect(read()).toBe('bye');
		expect(loads).toBe(2);
		await Promise.resolve();
		expect(read()).toBe('bye');
		expect(loads).toBe(2);
	});

	it('keeps no reading taken inside a transaction (the group commit runs in the check phase, whose readings would last into the next turn)', async () => {
		const cache = new ReadCache<string>(mine);
		const select = mine.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
		const read = () => cache.get('greeting', (key) => select.get(key)?.value);
		const seen = await new Promise<string | undefined>((resolve) =>
			setImmediate(() => {
				mine.transaction(() => void read())();
				other.prepare("UPDATE settings SET value = 'bye' WHERE key = 'greeting'").run();
				resolve(read());
			}),
		);
		expect(seen).toBe('bye');
	});

	it('forgets what it loaded inside a transaction that rolled back (the database no longer has it)', async () => {
		const cache = new ReadCache<string>(mine);
		const select = mine.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
		const read = () => cache.get('greeting', (key) => select.get(key)?.value);
		expect(read()).toBe('hello');
		const queue = new CommitQueue(mine);
		await expect(
			queue.run(() => {
				mine.prepare("UPDATE settings SET value = 'changed' WHERE key = 'greeting'").run();
				cache.invalidate();
				expect(read()).toBe('changed');
				throw new Error('the batch fails after the job cached its own write');
			}),
		).rejects.toThrow('the batch fails');
		expect(read()).toBe('hello');
	});
});
