import type { Clock } from '../clock';
import type { CommitQueue } from '../db/commit-queue';
import { events } from '../events/catalog';
import type { EventOutbox } from '../events/outbox';
import { ApiError, errorBody } from '../http/errors';
import type { Instance, InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import type { ProviderRegistry } from '../providers/registry';
import { isTransientStorageError } from '../db/storage-errors';
import { ProviderError, type Provider, type ProviderInstance, type TemplatePayload } from '../providers/types';
import { providerPaceKey, retryAfterSeconds } from './guards';
import { providerPace, tatRefusingUntil } from './velocity';
import type { CheckedAttempt, Reached } from './attempt';
import { IdempotencyKeys, type HeldKey, type SendAnswer } from './idempotency';
import type { RefusalBudget, UsageCounters, VelocityState } from './limits';
import type { GuardList, GuardOutcome } from './pipeline';
import { PAUSE_AFTER_VIOLATIONS } from './policy';
import type { LogEntryIds, MessagingRepository, NewLogEntry } from './repository';
import { contentHash } from './request';

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
	usage: UsageCounters;
	velocity: VelocityState;
	refusals: RefusalBudget;
	instances: Pick<InstanceService, 'pause' | 'providerSettings'>;
	providers: ProviderRegistry;
	/** Receives message.sent / message.failed in the same transaction as the log entry's outcome. */
	outbox: EventOutbox;
}

/** One attempt's hold on its Idempotency-Key, and whether the provider has been called (then the message may exist). */
interface Ticket {
	held: HeldKey | undefined;
	providerCalled: boolean;
}

/** An outcome the database refused for a while (a full disk) is committed again this much later, in turn. */
const OUTCOME_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 2 * 60_000, 10 * 60_000];

/** A refused attempt's text is kept as a prefix (and its hash): enough to recognise it, never a disk's worth. */
const REFUSED_TEXT_PREFIX = 80;

/** The message log row of an attempt, from as far as it got. */
function logEntry(
	attempt: Reached,
	status: 'blocked' | 'sending',
	errorCode: string | null,
	httpStatus: number,
): NewLogEntry {
	const { request, asked } = attempt;
	const fullText = request?.text ?? asked.text;
	const text =
		fullText === null || status === 'sending' ? fullText : [...fullText].slice(0, REFUSED_TEXT_PREFIX).join('');
	return {
		account_id: attempt.account.id,
		api_key_id: attempt.apiKeyId,
		source: attempt.source,
		instance_id: attempt.instance?.id ?? null,
		instance_ref: request?.instanceRef ?? asked.instanceRef,
		phone: request?.phone ?? asked.phone,
		message_purpose: request?.purpose ?? attempt.purpose ?? asked.purpose,
		message_type: request ? (request.template ? 'template' : (request.media?.type ?? 'text')) : null,
		message_text: text === null ? null : text.slice(0, 4096),
		// One meaning whatever the stage: the content policy's hash of the (normalized) content.
		content_hash: attempt.contentHash ?? (fullText === null ? null : contentHash({ text: fullText, media: undefined })),
		status,
		error_code: errorCode,
		http_status: httpStatus,
		risk_score: attempt.policy?.riskScore ?? null,
		provider_message_id: null,
		idempotency_key: attempt.idempotencyKey ?? null,
		created_at: attempt.now,
	};
}

/** The guards let a template through only to a provider that has sendTemplate. */
function sendTemplate(provider: Provider, target: ProviderInstance, to: string, template: TemplatePayload) {
	if (!provider.sendTemplate) throw new ProviderError(`${provider.name} cannot send templates`, 'rejected');
	return provider.sendTemplate(target, to, template);
}

const countedPeriods = ({ periods }: CheckedAttempt) => [`d:${periods.day}`, `m:${periods.month}`];

/**
 * The send itself: once per Idempotency-Key, the guards and the quota and velocity reservation they allow
 * in one job of the group commit (so concurrent requests cannot both take the last unit, and the content
 * rules see every send before it, committed or earlier in the same batch), the log entry committed before
 * the provider is called, the outcome and its event committed together. Every attempt is written to the
 * message log; a refusal is thrown as its ApiError once it is logged.
 */
export class SendService {
	/** Outcome commits waiting for another try (see commitOutcome). */
	private readonly retrying = new Set<Promise<void>>();

	constructor(private readonly deps: SendServiceDeps) {}

	/** Whether `send` with this Idempotency-Key would now answer the first answer again, or 409, instead of sending. */
	keyTaken(accountId: number, idempotencyKey: string, now: number): boolean {
		return this.deps.idempotency.taken(accountId, idempotencyKey, now);
	}

	/** Resolves once no outcome is waiting to be committed again (tests, shutdown). */
	async outcomesSettled(): Promise<void> {
		while (this.retrying.size > 0) await Promise.all([...this.retrying]);
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
		const ticket: Ticket = { held: undefined, providerCalled: false };
		try {
			return await this.guardedSend(start, guards, ticket, requestHash);
		} catch (error) {
			// Before the provider was called nothing was sent and the key is free again (a refusal released it in
			// its own job). After, it stays claimed (409 to a retry) until its outcome is committed or the next
			// start settles it from the message log: never a second send.
			if (!ticket.providerCalled) this.releaseQuietly(ticket);
			throw error;
		}
	}

	/**
	 * Logs an attempt refused before or by its guards (with how far it got), then throws the refusal. Past the
	 * key's budget of refusals a minute, it is counted instead; policy violations are always logged (three
	 * within an hour pause the instance).
	 */
	async refuse(attempt: Reached, error: ApiError, ticket?: Ticket): Promise<never> {
		await this.deps.writes.run(() => this.logRefusal(attempt, error, ticket));
		throw error;
	}

	/** refuse()'s writes, inside a job of the group commit. */
	private logRefusal(attempt: Reached, error: ApiError, ticket: Ticket | undefined): void {
		const { refusals, writes, repo } = this.deps;
		const { account, apiKeyId, now } = attempt;
		let inFull = true;
		if (error.code !== 'policy_violation') {
			inFull = refusals.take(account.id, apiKeyId, now);
			writes.onRollback(() => refusals.giveBack(account.id, apiKeyId, now));
		}
		if (inFull) repo.insertLogEntry(logEntry(attempt, 'blocked', error.code, error.status));
		else repo.countRefusedAttempt(account.id, apiKeyId, now, error.code);
		this.settle(ticket, undefined);
		if (error.code === 'policy_violation' && attempt.instance) this.pauseIfRepeated(attempt.instance, now);
	}

	private async guardedSend<In extends Reached, Out extends CheckedAttempt>(
		start: In,
		guards: GuardList<In, Out>,
		ticket: Ticket,
		requestHash: () => string,
	): Promise<SendAnswer> {
		// The key's claim and the guards run inside the group commit's transaction, in the same job as the
		// reservation they allow: no commit and no read lock of their own, and they see every send before this
		// one, committed or earlier in the same batch.
		const checked = await this.deps.writes.run(() => this.checkAndReserve(start, guards, ticket, requestHash));
		if ('replayed' in checked) return checked;
		if ('refused' in checked) throw checked.refused;
		if ('fault' in checked) throw checked.fault;
		const { attempt, entry } = checked;
		const { request, instance } = attempt;
		let messageId: string;
		try {
			const provider = this.deps.providers.get(instance.provider);
			const target = {
				id: instance.id,
				name: instance.name,
				settings: this.deps.instances.providerSettings(instance.id),
			};
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
		await this.commitOutcome(entry, () => {
			this.deps.repo.finishLogEntry(
				entry.id,
				{ status: 'sent', errorCode: null, httpStatus: 200, providerMessageId: messageId },
				finishedAt,
			);
			this.settle(ticket, { status: 200, body });
			this.deps.outbox.record(attempt.account.id, () =>
				events.messageSent(
					{ instanceId: instance.id, instanceName: instance.displayName, at: finishedAt },
					{ to: request.phone, messageId, purpose: request.purpose },
				),
			);
		});
		return { status: 200, body, replayed: false };
	}

	/**
	 * A job of the group commit: the Idempotency-Key's claim (a replay answers at once; a key reused with
	 * another body or still in progress is refused unlogged), the guards, then the refusal logged or the
	 * reservation they allow.
	 */
	private checkAndReserve<In extends Reached, Out extends CheckedAttempt>(
		start: In,
		guards: GuardList<In, Out>,
		ticket: Ticket,
		requestHash: () => string,
	): SendAnswer | { refused: ApiError } | { fault: unknown } | { attempt: Out; entry: LogEntryIds } {
		if (start.idempotencyKey !== undefined) {
			let claim: HeldKey | SendAnswer;
			try {
				claim = this.deps.idempotency.claim(start.account.id, start.idempotencyKey, requestHash(), start.now);
			} catch (fault) {
				if (fault instanceof ApiError) return { fault };
				throw fault;
			}
			if ('replayed' in claim) return claim;
			ticket.held = claim;
			this.deps.writes.onRollback(() => (ticket.held = undefined));
		}
		let outcome: GuardOutcome<Out>;
		try {
			outcome = guards.run(start);
		} catch (fault) {
			// A guard that failed (not a refusal): this send fails, its key is free again, the batch's others go on.
			this.settle(ticket, undefined);
			return { fault };
		}
		if ('refused' in outcome) {
			this.logRefusal(outcome.reached, outcome.refused, ticket);
			return { refused: outcome.refused };
		}
		return { attempt: outcome.passed, entry: this.reserve(outcome.passed) };
	}

	/**
	 * Takes the quota unit and velocity slots in memory, in the same synchronous job as the guards that
	 * checked them (undone if the transaction rolls back), and writes them with the open log entry.
	 */
	private reserve(attempt: CheckedAttempt): LogEntryIds {
		const { usage, velocity, repo, writes } = this.deps;
		const accountId = attempt.account.id;
		const counted = countedPeriods(attempt);
		usage.add(accountId, counted, 1);
		writes.onRollback(() => usage.add(accountId, counted, -1));
		for (const slot of attempt.velocity) {
			const before = velocity.get(slot.key);
			velocity.set(slot.key, slot.tat);
			writes.onRollback(() => velocity.restore(slot.key, before));
		}
		velocity.sweepIfGrown(attempt.now);
		repo.addToUsage(accountId, counted, 1);
		return repo.insertLogEntry(logEntry(attempt, 'sending', null, 202));
	}

	/**
	 * The provider did not send. A definite refusal gives the quota unit back and frees the key for a retry;
	 * an unknown outcome (a timeout after the request left) keeps both and is remembered as 502, so a
	 * retry with the same key cannot send the message a second time.
	 */
	private async failed(attempt: CheckedAttempt, entry: LogEntryIds, error: unknown, ticket: Ticket): Promise<never> {
		const { id, logId } = entry;
		// Before the provider was called (no provider, unreadable settings) nothing can have been sent.
		const definite = !ticket.providerCalled || (error instanceof ProviderError && error.outcome === 'rejected');
		const refusal = this.refusalFor(attempt, logId, error, definite);
		const reason = error instanceof Error ? error.message : String(error);
		this.deps.logger.warn({ logId, reason, definite }, 'provider send failed');
		const { account, instance, request } = attempt;
		const counted = countedPeriods(attempt);
		if (definite) this.deps.usage.add(account.id, counted, -1);
		const failedAt = this.deps.clock.now();
		await this.commitOutcome(entry, () => {
			if (definite) this.deps.repo.addToUsage(account.id, counted, -1);
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
			this.settle(ticket, definite ? undefined : { status: refusal.status, body: errorBody(refusal) });
			this.deps.outbox.record(
				account.id,
				events.messageFailed(
					{ instanceId: instance.id, instanceName: instance.displayName, at: failedAt },
					{
						to: request.phone,
						purpose: request.purpose,
						errorCode: refusal.code,
						errorMessage: refusal.message,
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
			const { instance } = attempt;
			const pace = this.deps.providers.pacePerMinute(
				instance.provider,
				this.deps.instances.providerSettings(instance.id),
			);
			if (pace !== undefined) {
				const key = providerPaceKey(instance.id);
				const until = tatRefusingUntil(attempt.now + slowDownMs, providerPace(pace));
				this.deps.velocity.set(key, Math.max(this.deps.velocity.get(key) ?? 0, until));
			}
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

	/**
	 * Settles the ticket's key inside a job, once: the ticket lets go of it (given back if the job rolls back),
	 * so no later release of this attempt can remove a claim another request made on the key meanwhile.
	 */
	private settle(ticket: Ticket | undefined, remembered: { status: number; body: object } | undefined): void {
		const held = ticket?.held;
		if (!ticket || !held) return;
		this.deps.idempotency.settle(held, remembered);
		ticket.held = undefined;
		this.deps.writes.onRollback(() => (ticket.held = held));
	}

	/** Outside a job (the attempt failed before the provider was called); the ticket lets go of the key. */
	private releaseQuietly(ticket: Ticket): void {
		const held = ticket.held;
		if (!held) return;
		ticket.held = undefined;
		try {
			this.deps.idempotency.release(held);
		} catch (error) {
			// The database refuses writes: the key stays held until the next start settles it from the log.
			this.deps.logger.error({ err: error }, 'could not release an Idempotency-Key');
		}
	}

	/**
	 * Commits a send's outcome (after the provider answered) with its event and key. If the database refuses
	 * it for a while, the caller still gets the true answer: the commit is tried again later, in the same
	 * group commit, and until then the key stays held and the entry `sending` (a restart settles both).
	 */
	private async commitOutcome(entry: LogEntryIds, work: () => void, failures = 0): Promise<void> {
		try {
			await this.deps.writes.run(work);
		} catch (error) {
			const delay = isTransientStorageError(error) ? OUTCOME_RETRY_DELAYS_MS[failures] : undefined;
			this.deps.logger.error(
				{ err: error, logId: entry.id, retryInMs: delay ?? null },
				'could not record a send outcome',
			);
			if (delay === undefined) throw error;
			const retry = new Promise<void>((resolve) => setTimeout(resolve, delay).unref())
				.then(() => this.commitOutcome(entry, work, failures + 1))
				.catch(() => undefined);
			this.retrying.add(retry);
			void retry.finally(() => this.retrying.delete(retry));
		}
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
