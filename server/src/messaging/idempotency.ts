import { ApiError } from '../http/errors';
import type { MessagingRepository } from './repository';

export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60_000;

/** An answer the send path gives: a fresh one, or the first answer replayed for a repeated Idempotency-Key. */
export interface SendAnswer {
	status: number;
	body: object;
	replayed: boolean;
}

/** The key an attempt holds while it runs; its outcome settles it in the same transaction. */
export interface HeldKey {
	accountId: number;
	key: string;
}

/**
 * `Idempotency-Key` (docs/api.md, "Idempotency"): one send per key and body within 24 hours. A replay of
 * a completed send returns the first answer; the same key with another body is refused; a key still in
 * use answers 409.
 */
export class IdempotencyKeys {
	constructor(private readonly repo: MessagingRepository) {}

	/** Claims the key for this request, or returns the remembered answer; refuses a reuse or a key in progress. */
	claim(accountId: number, key: string, requestHash: string, now: number): HeldKey | SendAnswer {
		if (this.repo.claimIdempotencyKey(accountId, key, requestHash, now, now - IDEMPOTENCY_RETENTION_MS)) {
			return { accountId, key };
		}
		const record = this.repo.findIdempotency(accountId, key);
		if (record && record.request_hash !== requestHash) throw new ApiError('idempotency_key_reused');
		if (record?.state === 'completed' && record.response_status !== null && record.response_body !== null) {
			return { status: record.response_status, body: JSON.parse(record.response_body) as object, replayed: true };
		}
		throw new ApiError('idempotency_request_in_progress', {}, { 'Retry-After': '1' });
	}

	/**
	 * Whether a claim of the key now would not send: it would replay a remembered answer or answer 409 for a
	 * send in progress (a caller may then leave out checks of its own that would answer otherwise).
	 */
	taken(accountId: number, key: string, now: number): boolean {
		const record = this.repo.findIdempotency(accountId, key);
		return record !== undefined && record.created_at >= now - IDEMPOTENCY_RETENTION_MS;
	}

	/**
	 * Settles a held key inside the transaction that records the attempt's outcome: a send that happened
	 * (or may have) is remembered with its answer; a refusal frees the key for a corrected retry.
	 */
	settle(held: HeldKey | undefined, remembered: { status: number; body: object } | undefined): void {
		if (!held) return;
		if (remembered)
			this.repo.completeIdempotencyKey(held.accountId, held.key, remembered.status, JSON.stringify(remembered.body));
		else this.repo.releaseIdempotencyKey(held.accountId, held.key);
	}

	release(held: HeldKey): void {
		this.repo.releaseIdempotencyKey(held.accountId, held.key);
	}

	purge(now: number): void {
		this.repo.purgeIdempotencyKeys(now - IDEMPOTENCY_RETENTION_MS);
	}
}
