import type { CommitQueue } from '../db/commit-queue';
import { isTransientStorageError } from '../db/storage-errors';
import type { Logger } from '../logger';

/** An outcome the database refused for a while (a full disk) is committed again this much later, in turn. */
const OUTCOME_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 2 * 60_000, 10 * 60_000];

/**
 * Commits a send's outcome (after the provider answered) with its event and key, in the group commit. If
 * the database refuses it for a while, the caller still gets the true answer: the commit is tried again
 * later, and until then the key stays held and the entry `sending` (a restart settles both from the log).
 */
export class OutcomeWriter {
	/** Outcome commits waiting for another try. */
	private readonly retrying = new Set<Promise<void>>();

	constructor(
		private readonly writes: CommitQueue,
		private readonly logger: Logger,
	) {}

	/** Resolves once no outcome is waiting to be committed again (tests, shutdown). */
	async settled(): Promise<void> {
		while (this.retrying.size > 0) await Promise.all([...this.retrying]);
	}

	/** Runs `work` in a job; throws only an error that is not a transient storage one (after logging it). */
	async commit(logId: number, work: () => void, failures = 0): Promise<void> {
		try {
			await this.writes.run(work);
		} catch (error) {
			const delay = isTransientStorageError(error) ? OUTCOME_RETRY_DELAYS_MS[failures] : undefined;
			this.logger.error({ err: error, logId, retryInMs: delay ?? null }, 'could not record a send outcome');
			if (delay === undefined) throw error;
			const retry = new Promise<void>((resolve) => setTimeout(resolve, delay).unref())
				.then(() => this.commit(logId, work, failures + 1))
				.catch(() => undefined);
			this.retrying.add(retry);
			void retry.finally(() => this.retrying.delete(retry));
		}
	}
}
