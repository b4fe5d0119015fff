/**
 * A provider's status reports about messages the gateway sent (docs/architecture.md, "Inbound log, opt-out
 * and the conversation window"): the message log moves forward, never back, and `message.status_updated`
 * goes out with `message.delivered`, `message.read` or `message.failed`. A report that reaches the gateway
 * before the outcome of its send is committed is held, and applied once that outcome lands.
 */
import type { Clock } from '../clock';
import type { CommitQueue } from '../db/commit-queue';
import { ERROR_TABLE } from '../http/errors';
import type { Instance, InstanceService } from '../instances/service';
import { events, type EventSource } from './catalog';
import type { HeldStatusRow, InboundRepository } from './inbound-repository';
import type { InboundEvent, StatusFailure } from './normalized';
import type { EventOutbox } from './outbox';

/** A provider's status report about a message the gateway sent. */
export type StatusUpdate = Omit<Extract<InboundEvent, { kind: 'status' }>, 'kind'> & { instanceId: string };

/** The message log entry a report moved, as its events name it. */
export interface ReportedMessage {
	phone: string | null;
	logId: number;
	purpose: string | null;
}

/** What a provider's status report did to the message log. */
export type StatusApplied =
	/** The entry moved; `at` is the status's time in the log, never before the status it follows. */
	| { outcome: 'applied'; at: number; entry: ReportedMessage }
	/** A repeat, or a status the message is already past. */
	| { outcome: 'not_news' }
	/** No entry has that provider message id (yet, when a send of the instance is with its provider). */
	| { outcome: 'unknown'; sendInFlight: boolean };

/** Where sent messages' statuses are kept (the messaging area's message log). */
export interface MessageStatusLog {
	/** Moves the message forward, in the caller's transaction. */
	applyProviderStatus(
		instanceId: string,
		providerMessageId: string,
		status: string,
		at: number,
		failure?: StatusFailure,
	): StatusApplied;
}

/**
 * How long a status report that came before its send's outcome is held: longer than a provider call and
 * every later try of committing the outcome (messaging/outcome-writer.ts). One nobody claims by then is
 * about a message the gateway did not send (from the phone itself, or another client of the number).
 */
export const HELD_STATUS_TTL_MS = 30 * 60_000;

export interface StatusReportDeps {
	clock: Clock;
	repo: InboundRepository;
	outbox: EventOutbox;
	instances: Pick<InstanceService, 'get'>;
	messageLog: MessageStatusLog;
	/** The gateway's group commit: status reports join the sends' batches, after the outcome they follow. */
	writes: CommitQueue;
}

/** A report's result: `duplicate` when it changed nothing (a held report is news). */
export interface StatusResult {
	duplicate: boolean;
	eventIds: string[];
}

export class StatusReports {
	constructor(private readonly deps: StatusReportDeps) {}

	/**
	 * Joins the group commit, queued after the outcome of the send it reports on. A report about an id no
	 * entry has yet, while a send of the instance is with its provider, is held (its send's outcome may not
	 * be committed yet); otherwise an unknown id is a message the gateway did not send, and is dropped.
	 */
	receive(update: StatusUpdate): Promise<StatusResult> {
		const receivedAt = this.deps.clock.now();
		return this.deps.writes.run((): StatusResult => {
			// Looked up inside the batch's transaction, where the read cache's check costs nothing.
			const instance = this.deps.instances.get(update.instanceId);
			const applied = this.apply(instance, update, update.at ?? receivedAt);
			if (applied.outcome === 'unknown' && applied.sendInFlight) {
				this.deps.repo.holdStatus(heldRow(update, receivedAt), receivedAt - HELD_STATUS_TTL_MS);
				return { duplicate: false, eventIds: [] };
			}
			return { duplicate: applied.outcome !== 'applied', eventIds: applied.eventIds };
		});
	}

	/**
	 * Inside the job that records a send's provider message id: the reports held for it, applied in the
	 * order they came (each moves the message forward or changes nothing), with their events' ids.
	 */
	applyHeld(instanceId: string, providerMessageId: string): string[] {
		const held = this.deps.repo.takeHeldStatuses(instanceId, providerMessageId);
		if (held.length === 0) return [];
		const instance = this.deps.instances.get(instanceId);
		return held.flatMap((row) => {
			const update: StatusUpdate = {
				instanceId,
				providerMessageId,
				status: row.status,
				providerStatus: row.provider_status ?? undefined,
				failure: row.failure_reason ? { reason: row.failure_reason, detail: row.failure_detail ?? '' } : undefined,
			};
			return this.apply(instance, update, row.reported_at ?? row.received_at).eventIds;
		});
	}

	/** Held reports that no send claimed within HELD_STATUS_TTL_MS of `now`. */
	expireHeld(now: number): number {
		return this.deps.repo.expireHeldStatuses(now - HELD_STATUS_TTL_MS);
	}

	/** Inside a job: the report moves the message log; its events carry the time the log gives it. */
	private apply(instance: Instance, update: StatusUpdate, at: number): StatusApplied & { eventIds: string[] } {
		const { providerMessageId, status } = update;
		const applied = this.deps.messageLog.applyProviderStatus(
			instance.id,
			providerMessageId,
			status,
			at,
			update.failure,
		);
		if (applied.outcome !== 'applied') return { ...applied, eventIds: [] };
		const { entry } = applied;
		const source: EventSource = { instanceId: instance.id, instanceName: instance.displayName, at: applied.at };
		const fact = { from: entry.phone ?? undefined, externalMessageId: providerMessageId, status };
		const record = (build: () => ReturnType<typeof events.messageStatus>) =>
			this.deps.outbox.record(instance.accountId, build);
		const recorded = [record(() => events.messageStatus('message.status_updated', source, fact))];
		if (status === 'delivered' || status === 'read') {
			const type = status === 'delivered' ? 'message.delivered' : 'message.read';
			recorded.push(record(() => events.messageStatus(type, source, fact)));
		} else if (status === 'failed' && entry.phone) {
			const phone = entry.phone;
			recorded.push(record(() => events.messageFailed(source, lateFailure({ ...entry, phone }, update))));
		}
		return { ...applied, eventIds: recorded.filter((id): id is string => id !== undefined) };
	}
}

/** A status report as it is held until its send's outcome is committed. */
function heldRow(update: StatusUpdate, receivedAt: number): HeldStatusRow {
	return {
		instance_id: update.instanceId,
		provider_message_id: update.providerMessageId,
		status: update.status,
		provider_status: update.providerStatus ?? null,
		reported_at: update.at ?? null,
		failure_reason: update.failure?.reason ?? null,
		failure_detail: update.failure?.detail ?? null,
		received_at: receivedAt,
	};
}

/**
 * message.failed for a message the provider accepted and gave up on later: the code and reason a refusal of
 * the same kind at send time gives (gateway_send_failed, details.reason), and the provider's message id.
 */
function lateFailure(entry: ReportedMessage & { phone: string }, update: StatusUpdate) {
	return {
		to: entry.phone,
		purpose: entry.purpose ?? '',
		errorCode: 'gateway_send_failed',
		errorMessage: ERROR_TABLE.gateway_send_failed.message,
		reason: update.failure?.reason ?? 'provider_rejected',
		messageId: update.providerMessageId,
		logId: entry.logId,
	};
}
