import type { Db } from './index';

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
 * own, so one failing job never takes the others' writes with it.
 */
export class CommitQueue {
  private jobs: Job[] = [];
  private scheduled = false;

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

  /** Runs everything queued so far, now. Also called before the database closes so nothing is dropped. */
  flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.db.transaction(() => jobs.map((job): Outcome => ({ ok: true, value: job.work() }))).immediate();
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
      return { ok: true, value: this.db.transaction(job.work).immediate() };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
