import { openDatabase, type Db } from '../../server/src/db';
import { CommitQueue } from '../../server/src/db/commit-queue';

let db: Db;
let queue: CommitQueue;
beforeEach(() => {
	db = openDatabase(':memory:');
	queue = new CommitQueue(db);
});
afterEach(() => db.close());

const settings = () => db.prepare('SELECT key, value FROM settings ORDER BY key').all();
const insert = (key: string) => db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(key, 'v');

describe('the group commit', () => {
	it('jobs queued in one turn share one transaction; a failing job is answered alone and takes nobody’s writes with it', async () => {
		const outcomes = await Promise.allSettled([
			queue.run(() => insert('a')),
			queue.run(() => {
				insert('b');
				throw new Error('this job fails');
			}),
			queue.run(() => insert('c')),
		]);
		expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
		expect(settings()).toEqual([
			{ key: 'a', value: 'v' },
			{ key: 'c', value: 'v' },
		]);
	});

	it('what a job changed in memory is undone with its rolled-back writes, so a job run again counts once', async () => {
		// A counter kept beside the table, as the quota counters are: one per row written.
		let counted = 0;
		const counting = (key: string) => () => {
			insert(key);
			counted += 1;
			queue.onRollback(() => (counted -= 1));
		};
		const outcomes = await Promise.allSettled([
			queue.run(counting('a')),
			queue.run(counting('b')),
			// Fails in the batch (rolling a and b back with it) and again alone: only a and b are run again.
			queue.run(() => {
				insert('c');
				counted += 1;
				queue.onRollback(() => (counted -= 1));
				throw new Error('no room');
			}),
		]);
		expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
		expect(settings().map((row) => (row as { key: string }).key)).toEqual(['a', 'b']);
		expect(counted).toBe(2);
	});

	it('undoes newest first', async () => {
		const state: string[] = [];
		await expect(
			queue.run(() => {
				state.push('one');
				queue.onRollback(() => expect(state.pop()).toBe('one'));
				state.push('two');
				queue.onRollback(() => expect(state.pop()).toBe('two'));
				throw new Error('rolled back');
			}),
		).rejects.toThrow('rolled back');
		expect(state).toEqual([]);
	});

	it('refuses an undo outside a running job, where no transaction could roll it back', () => {
		expect(() => queue.onRollback(() => undefined)).toThrow(/inside a job/);
	});
});
