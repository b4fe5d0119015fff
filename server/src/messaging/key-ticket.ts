import type { CommitQueue } from '../db/commit-queue';
import type { Logger } from '../logger';
import type { HeldKey, IdempotencyKeys, SendAnswer } from './idempotency';

/**
 * One attempt's hold on its Idempotency-Key, and whether the provider has been called (from then on the
 * message may exist, so the key is never simply freed). The claim and the settlement happen inside jobs of
 * the group commit and are undone with them; a release outside a job is for attempts that never reached
 * the provider.
 */
export class KeyTicket {
	private held: HeldKey | undefined;
	providerCalled = false;

	constructor(
		private readonly keys: IdempotencyKeys,
		private readonly writes: CommitQueue,
		private readonly logger: Logger,
	) {}

	/**
	 * Inside a job: claims the key for this request, or returns the first answer to replay. Throws the
	 * ApiError of a key reused with another body or still in progress.
	 */
	claim(accountId: number, key: string, requestHash: string, now: number): SendAnswer | undefined {
		const claim = this.keys.claim(accountId, key, requestHash, now);
		if ('replayed' in claim) return claim;
		this.held = claim;
		this.writes.onRollback(() => (this.held = undefined));
		return undefined;
	}

	/**
	 * Inside a job, once: remembers the answer (a send that happened or may have) or frees the key (a
	 * refusal). The ticket lets go of the key (given back if the job rolls back), so no later release of this
	 * attempt can remove a claim another request made on the key meanwhile.
	 */
	settle(remembered: { status: number; body: object } | undefined): void {
		const held = this.held;
		if (!held) return;
		this.keys.settle(held, remembered);
		this.held = undefined;
		this.writes.onRollback(() => (this.held = held));
	}

	/** Outside a job (the attempt failed before the provider was called): the ticket lets go of the key. */
	releaseQuietly(): void {
		const held = this.held;
		if (!held) return;
		this.held = undefined;
		try {
			this.keys.release(held);
		} catch (error) {
			// The database refuses writes: the key stays held until the next start settles it from the log.
			this.logger.error({ err: error }, 'could not release an Idempotency-Key');
		}
	}
}
