import type { Clock } from '../clock';
import type { Db } from '../db';
import type { CommitQueue } from '../db/commit-queue';
import type { EventOutbox } from '../events/outbox';
import type { Instance, InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import type { ProviderRegistry } from '../providers/registry';
import type { SuppressionService } from '../suppressions/service';
import { apiSendGuards } from './api-guards';
import { sharedGuards } from './guards';
import { IdempotencyKeys } from './idempotency';
import { RefusalBudget, UsageCounters, VelocityState } from './limits';
import { MessageLogQueries } from './log-queries';
import { checkMediaUrl, type MediaDestinations, type MediaUrlCheck } from './media-url';
import { MessageLog } from './message-log';
import { MessagingRepository } from './repository';
import { recoverInterruptedSends } from './recovery';
import { Reservations } from './reservation';
import { StatusRepository } from './status-repository';
import { SendService } from './send-service';
import { sendPipeline, type SendPipeline } from './send-pipeline';

export interface MessagingDeps {
	db: Db;
	clock: Clock;
	logger: Logger;
	writes: CommitQueue;
	instances: InstanceService;
	suppressions: SuppressionService;
	providers: ProviderRegistry;
	outbox: EventOutbox;
	/** Where tenants' media URLs may point (media-url.ts). */
	mediaDestinations: MediaDestinations;
	/** See SendServiceDeps.applyHeldStatuses. */
	applyHeldStatuses?: (instanceId: string, providerMessageId: string) => void;
}

/**
 * The messaging area wired together: the send path (guards, idempotency, reservation, provider call,
 * outcome), the message log, crash recovery and upkeep, over one repository and one set of limit states.
 */
export class Messaging {
	readonly sends: SendService;
	readonly log: MessageLog;
	/** The send-check order, for callers composing their own list (the 3CX endpoint). */
	readonly pipeline: SendPipeline;
	/** `POST /api/send-message`'s guard list, composed once. */
	readonly apiGuards: ReturnType<typeof apiSendGuards>;
	private readonly repo: MessagingRepository;
	private readonly idempotency: IdempotencyKeys;
	private readonly usage: UsageCounters;
	private readonly velocity = new VelocityState();
	private readonly refusals = new RefusalBudget();
	private readonly refusalListeners: ((errorCode: string) => void)[] = [];
	private readonly queries: MessageLogQueries;

	constructor(private readonly deps: MessagingDeps) {
		this.repo = new MessagingRepository(deps.db);
		this.idempotency = new IdempotencyKeys(this.repo);
		this.usage = new UsageCounters(this.repo);
		const pacePerMinute = (instance: Instance) =>
			deps.providers.pacePerMinute(instance.provider, deps.instances.providerSettings(instance.id));
		this.pipeline = sendPipeline(
			sharedGuards({
				instances: deps.instances,
				suppressions: deps.suppressions,
				repo: this.repo,
				usage: this.usage,
				velocity: this.velocity,
				providerLimits: {
					pacePerMinute,
					canSendTemplates: (provider) => deps.providers.canSendTemplates(provider),
				},
			}),
		);
		this.apiGuards = apiSendGuards(this.pipeline);
		this.sends = new SendService({
			...deps,
			repo: this.repo,
			idempotency: this.idempotency,
			reservations: new Reservations({
				repo: this.repo,
				writes: deps.writes,
				usage: this.usage,
				velocity: this.velocity,
				refusals: this.refusals,
				pacePerMinute,
			}),
			onRefusalCounted: (errorCode) => {
				for (const listener of this.refusalListeners) listener(errorCode);
			},
		});
		this.queries = new MessageLogQueries(deps.db);
		this.log = new MessageLog(this.repo, this.usage, deps.clock, this.queries, new StatusRepository(deps.db));
	}

	/** Checks a body's media URL before the guards run (they are synchronous; DNS is not). */
	checkMediaUrl(value: unknown): Promise<MediaUrlCheck | undefined> {
		return checkMediaUrl(value, this.deps.mediaDestinations);
	}

	/**
	 * Per API key id, the refusals past its per-minute log budget (REFUSALS_LOGGED_PER_MINUTE): answered and
	 * counted, not written to the message log; over the retention period, with the last one's time.
	 */
	refusedAttempts(): Map<number, { count: number; lastAt: number }> {
		return new Map(
			this.queries
				.refusedAttemptsByKey()
				.map((row) => [row.api_key_id, { count: row.count, lastAt: row.last_minute * 60_000 }]),
		);
	}

	/** Hears each refusal counted instead of logged (the metrics count them). */
	onRefusalCounted(listener: (errorCode: string) => void): void {
		this.refusalListeners.push(listener);
	}

	/** See recovery.ts; run at start, before serving. */
	recoverInterruptedSends(): number {
		return recoverInterruptedSends({ ...this.deps, repo: this.repo, idempotency: this.idempotency });
	}

	/**
	 * Hourly upkeep: expired idempotency records, in-memory limiter state nobody will read again, and
	 * message log entries older than `retainBefore` (when given).
	 */
	housekeeping(retainBefore?: number): void {
		const now = this.deps.clock.now();
		this.idempotency.purge(now);
		if (retainBefore !== undefined) this.repo.pruneLogEntries(retainBefore);
		this.usage.sweep(now);
		this.velocity.sweep(now);
		this.refusals.sweep(now);
	}
}
