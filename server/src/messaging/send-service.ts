import type { Clock } from '../clock';
import type { CommitQueue } from '../db/commit-queue';
import { events } from '../events/catalog';
import type { EventOutbox } from '../events/outbox';
import { ApiError, errorBody } from '../http/errors';
import type { Instance, InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import type { ProviderRegistry } from '../providers/registry';
import { ProviderError, type Provider, type ProviderInstance, type TemplatePayload } from '../providers/types';
import type { CheckedAttempt, Reached } from './attempt';
import { retryAfterSeconds } from './guards';
import type { IdempotencyKeys, SendAnswer } from './idempotency';
import { KeyTicket } from './key-ticket';
import { logEntry } from './log-entry';
import { OutcomeWriter } from './outcome-writer';
import type { GuardList, GuardOutcome } from './pipeline';
import { PAUSE_AFTER_VIOLATIONS } from './policy';
import type { LogEntryIds, MessagingRepository } from './repository';
import type { Reservations } from './reservation';

export interface SendSuccess {
	success: true;
	status: 'sent';
	message_id: string;
	log_id: number;
}

export interface SendServiceDeps {
	clock: Clock;
	logger: Logger;
	repo: MessagingRepository;
	/** The gateway's group commit: the guards with the reservation they allow, outcomes and their events join it. */
	writes: CommitQueue;
	idempotency: IdempotencyKeys;
	/** Every write to the limiters: quota, velocity, the provider's back-off, the refusal budget. */
	reservations: Reservations;
	instances: Pick<InstanceService, 'pause' | 'providerSettings' | 'providerTarget'>;
	providers: ProviderRegistry;
	/** Receives message.sent / message.failed in the same transaction as the log entry's outcome. */
	outbox: EventOutbox;
	/**
	 * In the job that records a send's provider message id: applies the status reports that came before it
	 * (the inbound service holds them). Absent: none are held.
	 */
	applyHeldStatuses?: (instanceId: string, providerMessageId: string) => void;
	/** Told of each refusal counted instead of logged, once it is committed (the metrics). */
	onRefusalCounted?: (errorCode: string) => void;
}

/** The guards let a template through only to a provider that has sendTemplate. */
function sendTemplate(provider: Provider, target: ProviderInstance, to: string, template: TemplatePayload) {
	if (!provider.sendTemplate) throw new ProviderError(`${provider.name} cannot send templates`, 'rejected');
	return provider.sendTemplate(target, to, template);
}

/**
 * The send itself: once per Idempotency-Key, the guards and the quota and velocity reservation they allow
 * in one job of the group commit (so concurrent requests cannot both take the last unit, and the content
 * rules see every send before it, committed or earlier in the same batch), the log entry committed before
 * the provider is called, the outcome and its event committed together. Every attempt is written to the
 * message log; a refusal is thrown as its ApiError once it is logged.
 */
export class SendService {
	private readonly reservations: Reservations;
	private readonly outcomes: OutcomeWriter;

	constructor(private readonly deps: SendServiceDeps) {
		this.reservations = deps.reservations;
		this.outcomes = new OutcomeWriter(deps.writes, deps.logger);
	}

	/** Whether `send` with this Idempotency-Key would now answer the first answer again, or 409, instead of sending. */
	keyTaken(accountId: number, idempotencyKey: string, now: number): boolean {
		return this.deps.idempotency.taken(accountId, idempotencyKey, now);
	}

	/** Resolves once no outcome is waiting to be committed again (tests, shutdown). */
	outcomesSettled(): Promise<void> {
		return this.outcomes.settled();
	}

	/**
	 * Runs `guards` and sends, once per Idempotency-Key: a replay of a completed send returns the first
	 * answer; the same key with another body (`requestHash`, computed only when a key is given) is refused.
	 */
	async send<In extends Reached, Out extends CheckedAttempt>(
		start: In,
		guards: GuardList<In, Out>,
		requestHash: () => string,
	): Promise<SendAnswer> {
		const ticket = new KeyTicket(this.deps.idempotency, this.deps.writes, this.deps.logger);
		try {
			// The key's claim and the guards run inside the group commit's transaction, in the same job as the
			// reservation they allow: no commit and no read lock of their own, and they see every send before
			// this one, committed or earlier in the same batch.
			const checked = await this.deps.writes.run(() => this.checkAndReserve(start, guards, ticket, requestHash));
			if ('replayed' in checked) return checked;
			if ('refused' in checked) {
				if (!checked.logged) this.deps.onRefusalCounted?.(checked.refused.code);
				throw checked.refused;
			}
			if ('fault' in checked) throw checked.fault;
			return await this.sendChecked(checked.attempt, checked.entry, ticket);
		} catch (error) {
			// Before the provider was called nothing was sent and the key is free again (a refusal released it in
			// its own job). After, it stays claimed (409 to a retry) until its outcome is committed or the next
			// start settles it from the message log: never a second send.
			if (!ticket.providerCalled) ticket.releaseQuietly();
			throw error;
		}
	}

	/**
	 * Logs an attempt refused before or by its guards (with how far it got), then throws the refusal. Past the
	 * key's budget of refusals a minute, it is counted instead; policy violations are always logged (three
	 * within an hour pause the instance).
	 */
	async refuse(attempt: Reached, error: ApiError, ticket?: KeyTicket): Promise<never> {
		const inFull = await this.deps.writes.run(() => this.logRefusal(attempt, error, ticket));
		if (!inFull) this.deps.onRefusalCounted?.(error.code);
		throw error;
	}

	/** refuse()'s writes, inside a job of the group commit; false when the refusal was only counted. */
	private logRefusal(attempt: Reached, error: ApiError, ticket: KeyTicket | undefined): boolean {
		const { repo } = this.deps;
		const { account, apiKeyId, now } = attempt;
		const inFull = error.code === 'policy_violation' || this.reservations.takeRefusal(account.id, apiKeyId, now);
		if (inFull) repo.insertLogEntry(logEntry(attempt, 'blocked', error.code, error.status));
		else repo.countRefusedAttempt(account.id, apiKeyId, now, error.code);
		ticket?.settle(undefined);
		if (error.code === 'policy_violation' && attempt.instance) this.pauseIfRepeated(attempt.instance, now);
		return inFull;
	}

	/**
	 * A job of the group commit: the Idempotency-Key's claim (a replay answers at once; a key reused with
	 * another body or still in progress is refused unlogged), the guards, then the refusal logged or the
	 * reservation they allow with the open log entry.
	 */
	private checkAndReserve<In extends Reached, Out extends CheckedAttempt>(
		start: In,
		guards: GuardList<In, Out>,
		ticket: KeyTicket,
		requestHash: () => string,
	): SendAnswer | { refused: ApiError; logged: boolean } | { fault: unknown } | { attempt: Out; entry: LogEntryIds } {
		if (start.idempotencyKey !== undefined) {
			try {
				const replay = ticket.claim(start.account.id, start.idempotencyKey, requestHash(), start.now);
				if (replay) return replay;
			} catch (fault) {
				if (fault instanceof ApiError) return { fault };
				throw fault;
			}
		}
		let outcome: GuardOutcome<Out>;
		try {
			outcome = guards.run(start);
		} catch (fault) {
			// A guard that failed (not a refusal): this send fails, its key is free again, the batch's others go on.
			ticket.settle(undefined);
			return { fault };
		}
		if ('refused' in outcome) {
			return { refused: outcome.refused, logged: this.logRefusal(outcome.reached, outcome.refused, ticket) };
		}
		this.reservations.take(outcome.passed);
		return {
			attempt: outcome.passed,
			entry: this.deps.repo.insertLogEntry(logEntry(outcome.passed, 'sending', null, 202)),
		};
	}

	/** The provider call for a checked, reserved and logged attempt, then its outcome. */
	private async sendChecked(attempt: CheckedAttempt, entry: LogEntryIds, ticket: KeyTicket): Promise<SendAnswer> {
		const { request, instance } = attempt;
		let messageId: string;
		try {
			const provider = this.deps.providers.get(instance.provider);
			const target = this.deps.instances.providerTarget(instance);
			ticket.providerCalled = true;
			const result = request.template
				? await sendTemplate(provider, target, request.phone, request.template)
				: request.media
					? await provider.sendMedia(target, request.phone, request.media, request.text)
					: await provider.sendText(target, request.phone, request.text);
			messageId = result.messageId;
		} catch (error) {
			return this.failed(attempt, entry, error, ticket);
		}
		const finishedAt = this.deps.clock.now();
		const body: SendSuccess = { success: true, status: 'sent', message_id: messageId, log_id: entry.logId };
		// The message is out: whatever the database does now, the caller is told so (never "retry").
		await this.outcomes.commit(entry.id, () => {
			this.deps.repo.finishLogEntry(
				entry.id,
				{ status: 'sent', errorCode: null, httpStatus: 200, providerMessageId: messageId },
				finishedAt,
			);
			ticket.settle({ status: 200, body });
			this.deps.outbox.record(attempt.account.id, () =>
				events.messageSent(
					{ instanceId: instance.id, instanceName: instance.displayName, at: finishedAt },
					{ to: request.phone, messageId, purpose: request.purpose },
				),
			);
			// A provider can report on the message before this commit (it answers and posts `sent` at once).
			this.deps.applyHeldStatuses?.(instance.id, messageId);
		});
		return { status: 200, body, replayed: false };
	}

	/**
	 * The provider did not send. A definite refusal gives the quota unit back and frees the key for a retry;
	 * an unknown outcome (a timeout after the request left) keeps both and is remembered as 502, so a
	 * retry with the same key cannot send the message a second time.
	 */
	private async failed(attempt: CheckedAttempt, entry: LogEntryIds, error: unknown, ticket: KeyTicket): Promise<never> {
		const { id, logId } = entry;
		// Before the provider was called (no provider, unreadable settings) nothing can have been sent.
		const definite = !ticket.providerCalled || (error instanceof ProviderError && error.outcome === 'rejected');
		const refusal = this.refusalFor(attempt, logId, error, definite);
		const reason = error instanceof Error ? error.message : String(error);
		this.deps.logger.warn({ logId, reason, definite }, 'provider send failed');
		const { account, instance, request } = attempt;
		if (definite) this.reservations.giveBack(attempt);
		const failedAt = this.deps.clock.now();
		await this.outcomes.commit(id, () => {
			if (definite) this.reservations.giveBackStored(attempt);
			this.deps.repo.finishLogEntry(
				id,
				{
					status: definite ? 'failed' : 'unknown',
					errorCode: refusal.code,
					httpStatus: refusal.status,
					providerMessageId: null,
					detail: reason,
				},
				failedAt,
			);
			ticket.settle(definite ? undefined : { status: refusal.status, body: errorBody(refusal) });
			this.deps.outbox.record(
				account.id,
				events.messageFailed(
					{ instanceId: instance.id, instanceName: instance.displayName, at: failedAt },
					{
						to: request.phone,
						purpose: request.purpose,
						errorCode: refusal.code,
						errorMessage: refusal.message,
						reason: error instanceof ProviderError ? error.reason : undefined,
						logId,
					},
				),
			);
		});
		throw refusal;
	}

	/**
	 * What the caller is told: 502 gateway_send_failed with a safe reason, or, when the provider said to slow
	 * down, 429 sending_throttled with its Retry-After (and the instance's provider pace waits that long).
	 */
	private refusalFor(attempt: CheckedAttempt, logId: number, error: unknown, definite: boolean): ApiError {
		const reason = error instanceof ProviderError ? error.reason : undefined;
		const slowDownMs = error instanceof ProviderError && definite ? error.retryAfterMs : undefined;
		if (slowDownMs !== undefined) {
			this.reservations.backOffProvider(attempt.instance, attempt.now, slowDownMs);
			return new ApiError(
				'sending_throttled',
				{
					action: 'throttle',
					risk_score: 60,
					scope: 'provider',
					reason,
					retry_after_seconds: Math.ceil(slowDownMs / 1000),
					log_id: logId,
				},
				{ 'Retry-After': retryAfterSeconds(slowDownMs) },
			);
		}
		const details: Record<string, unknown> = { log_id: logId };
		if (reason) details.reason = reason;
		if (!definite) details.outcome = 'unknown';
		return new ApiError('gateway_send_failed', details);
	}

	private pauseIfRepeated(instance: Instance, now: number): void {
		const since = Math.max(now - PAUSE_AFTER_VIOLATIONS.windowMs, (instance.reviewedAt ?? -1) + 1);
		const violations = this.deps.repo.policyViolationsSince(instance.id, since);
		if (violations >= PAUSE_AFTER_VIOLATIONS.count && !instance.paused) {
			const minutes = PAUSE_AFTER_VIOLATIONS.windowMs / 60_000;
			this.deps.instances.pause(instance.id, `${violations} policy violations within ${minutes} minutes`);
			this.deps.logger.warn(
				{ instanceId: instance.id, violations },
				'instance paused for responsible messaging review',
			);
		}
	}
}
