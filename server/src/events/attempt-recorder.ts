import type { Clock } from '../clock';
import type { Db } from '../db';
import { CommitQueue } from '../db/commit-queue';
import type { Logger } from '../logger';
import type { AttemptResult } from './delivery-client';
import type { DueDelivery } from './outbox-repository';
import type { EventsRepository } from './repository';

/** What the worker knows about a subscription it serves. */
export interface SubscriptionState {
	accountId: number;
	consecutiveFailures: number;
	successWrittenAt: number;
	warnedAt: number | undefined;
	/** Whether this run of failures (since the last success) has had its warning. */
	warnedSinceSuccess: boolean;
}
/** After this many failed attempts in a row, a subscription gets one attempt at a time until one succeeds. */
export const FAILING_AFTER_CONSECUTIVE_FAILURES = 3;
/** A subscription's first failure is logged as a warning at most this often. */
export const FAILURE_WARNING_INTERVAL_MS = 15 * 60_000;
/** last_success_at is written at most this often per subscription while it is healthy. */
const SUCCESS_WRITE_INTERVAL_MS = 1000;

export interface AttemptRecorderDeps {
	db: Db;
	repo: EventsRepository;
	clock: Clock;
	logger: Logger;
	retryScheduleMs: number[];
}

/**
 * Records what a delivery attempt came to, through the group commit: delivered, retried on the schedule (or
 * later when the receiver sent Retry-After), failed for good, or the subscription disabled by a 410. It also
 * keeps the worker's view of each subscription (its account, its run of failures): the recording updates it
 * and the worker's pump reads it, to share slots by account and to hold back a failing subscription.
 */
export class AttemptRecorder {
	private readonly writes: CommitQueue;
	private readonly subscriptions = new Map<string, SubscriptionState>();

	constructor(private readonly deps: AttemptRecorderDeps) {
		this.writes = new CommitQueue(deps.db);
	}

	/** Commits the outcomes still queued (the worker's stop and idle wait for them). */
	flush(): void {
		this.writes.flush();
	}

	/** The subscription's account and failure count, loaded once; undefined once it is deleted. */
	subscription(webhookId: string): SubscriptionState | undefined {
		let state = this.subscriptions.get(webhookId);
		if (!state) {
			const row = this.deps.repo.webhooks.deliveryState(webhookId);
			if (!row) return undefined;
			state = {
				accountId: row.account_id,
				consecutiveFailures: row.consecutive_failures,
				successWrittenAt: 0,
				warnedAt: undefined,
				warnedSinceSuccess: false,
			};
			if (this.subscriptions.size > 100_000) this.subscriptions.clear();
			this.subscriptions.set(webhookId, state);
		}
		return state;
	}

	/** Whether a subscription (already loaded) has failed often enough in a row to get one attempt at a time. */
	isFailing(webhookId: string): boolean {
		return (this.subscriptions.get(webhookId)?.consecutiveFailures ?? 0) >= FAILING_AFTER_CONSECUTIVE_FAILURES;
	}

	record(delivery: DueDelivery, result: AttemptResult, force?: 'give_up'): Promise<void> {
		const now = this.deps.clock.now();
		const { repo, logger } = this.deps;
		const schedule = this.deps.retryScheduleMs;
		const attemptNumber = delivery.attempts + 1;
		const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
		const error =
			result.error ??
			(ok
				? null
				: `HTTP ${result.statusCode}${result.statusCode !== null && result.statusCode >= 300 && result.statusCode < 400 ? ' (redirects are not followed)' : ''}`);
		// A failure that is not tried again (410 Gone, the last attempt) gets its own warning below, not "retrying".
		const retried = !ok && result.statusCode !== 410 && attemptNumber < schedule.length;
		const health = force === 'give_up' ? undefined : this.noteHealth(delivery, ok, error ?? 'failed', now, retried);
		return this.writes.run(() => {
			if (health === 'success') repo.webhooks.recordSuccess(delivery.webhook_id, now);
			else if (health === 'failure') repo.webhooks.recordFailure(delivery.webhook_id, error ?? 'failed', now);
			if (ok) {
				repo.outbox.completeDelivery(
					delivery.id,
					{ status: 'succeeded', statusCode: result.statusCode, error: null },
					now,
				);
				return;
			}
			if (result.statusCode === 410) {
				repo.webhooks.setEnabled(delivery.webhook_id, false, 'the destination answered 410 Gone', now);
				repo.outbox.completeDelivery(delivery.id, { status: 'failed', statusCode: 410, error }, now);
				logger.warn({ webhookId: delivery.webhook_id }, 'webhook disabled: destination answered 410 Gone');
				return;
			}
			if (force === 'give_up' || attemptNumber >= schedule.length) {
				repo.outbox.completeDelivery(delivery.id, { status: 'failed', statusCode: result.statusCode, error }, now);
				logger.warn({ deliveryId: delivery.id, attempts: attemptNumber, error }, 'delivery failed for good');
				return;
			}
			const delay = Math.max(schedule[attemptNumber], result.retryAfterMs ?? 0);
			repo.outbox.scheduleRetry(delivery.id, now + delay, result.statusCode, error, now);
		});
	}

	/**
	 * Updates the subscription's failure count at once (the next pump sees it) and says which health write
	 * the attempt needs. The first failure since the last success that will be retried is logged as a warning,
	 * at most once per interval per subscription, so a receiver that is down is noticed long before the last
	 * retry.
	 */
	private noteHealth(
		delivery: DueDelivery,
		ok: boolean,
		reason: string,
		now: number,
		retried: boolean,
	): 'success' | 'failure' | undefined {
		const state = this.subscription(delivery.webhook_id);
		if (!state) return undefined;
		if (ok) {
			state.warnedSinceSuccess = false;
			if (state.consecutiveFailures === 0 && now - state.successWrittenAt < SUCCESS_WRITE_INTERVAL_MS) return undefined;
			state.consecutiveFailures = 0;
			state.successWrittenAt = now;
			return 'success';
		}
		state.consecutiveFailures += 1;
		if (
			retried &&
			!state.warnedSinceSuccess &&
			(state.warnedAt === undefined || now - state.warnedAt >= FAILURE_WARNING_INTERVAL_MS)
		) {
			state.warnedAt = now;
			state.warnedSinceSuccess = true;
			this.deps.logger.warn(
				{ webhookId: delivery.webhook_id, accountId: state.accountId, deliveryId: delivery.id, reason },
				'webhook delivery failed; retrying on schedule',
			);
		}
		return 'failure';
	}
}
