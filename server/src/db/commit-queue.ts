import type { Db } from './index';
import { noteRollback } from './read-cache';

interface Job {
	work: () => unknown;
	resolve: (value: unknown) => void;
	reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: writes queued during one turn of the event loop run in one transaction and every caller
 * is answered after the commit, so under load a commit is paid once per batch instead of once per
 * request. If any job throws, the batch is rolled back and each job is run again in a transaction of its
 * own, so one failing job never takes the others' writes with it. A job that also changes state in memory
 * (a quota counter) registers how to undo it with `onRollback`, so a rolled-back job leaves nothing behind
 * and running it again counts it once.
 */
export class CommitQueue {
	private jobs: Job[] = [];
	private scheduled = false;
	/** The undos of the transaction running now; undefined between transactions. */
	private undos: (() => void)[] | undefined;

	constructor(private readonly db: Db) {}

	run<T>(work: () => T): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			this.jobs.push({ work, resolve: resolve as (value: unknown) => void, reject });
			if (!this.scheduled) {
				this.scheduled = true;
				setImmediate(() => this.flush());
			}
		});
	}

	/**
	 * Called by a job while it runs: `undo` puts back what the job changed outside the database, and runs
	 * if the transaction the job is in rolls back (undos run newest first).
	 */
	onRollback(undo: () => void): void {
		if (!this.undos) throw new Error('onRollback() belongs inside a job of the commit queue, while it runs');
		this.undos.push(undo);
	}

	/** Runs everything queued so far, now. Also called before the database closes so nothing is dropped. */
	flush(): void {
		this.scheduled = false;
		const jobs = this.jobs;
		this.jobs = [];
		if (jobs.length === 0) return;
		let outcomes: Outcome[];
		try {
			outcomes = this.transaction(() => jobs.map((job): Outcome => ({ ok: true, value: job.work() })));
		} catch {
			outcomes = jobs.map((job) => this.runAlone(job));
		}
		jobs.forEach((job, i) => {
			const outcome = outcomes[i];
			if (outcome.ok) job.resolve(outcome.value);
			else job.reject(outcome.error);
		});
	}

	private runAlone(job: Job): Outcome {
		try {
			return { ok: true, value: this.transaction(job.work) };
		} catch (error) {
			return { ok: false, error };
		}
	}

	/**
	 * One immediate transaction; if it throws (and so rolls back), the undos its jobs registered run and the
	 * read caches forget what they loaded meanwhile.
	 */
	private transaction<T>(work: () => T): T {
		const undos: (() => void)[] = [];
		this.undos = undos;
		try {
			return this.db.transaction(work).immediate();
		} catch (error) {
			noteRollback(this.db);
			for (const undo of undos.reverse()) undo();
			throw error;
		} finally {
			this.undos = undefined;
		}
	}
}
