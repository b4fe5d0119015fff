import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import { normalizePhone } from '../common/phone';
import type { CommitQueue } from '../db/commit-queue';
import { InputError } from '../input-error';
import type { Instance, InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import type { SuppressionService } from '../suppressions/service';
import { events, type EventPayload, type EventSource } from './catalog';
import { classifyKeyword, DEFAULT_OPT_IN, DEFAULT_OPT_OUT, type KeywordLists } from './keywords';
import type { InboundEvent } from './normalized';
import type { EventOutbox } from './outbox';
import type { InboundFilter, InboundRepository, InboundRow } from './inbound-repository';
import { StatusReports, type MessageStatusLog, type StatusUpdate } from './status-reports';

type Reported<Kind extends InboundEvent['kind']> = Omit<Extract<InboundEvent, { kind: Kind }>, 'kind'> & {
	instanceId: string;
};

/** A message a provider received, normalized, on the instance it reached. */
export type InboundMessage = Reported<'message'>;

export type { MessageStatusLog, StatusUpdate } from './status-reports';

export interface InboundResult {
	duplicate: boolean;
	inboundId?: number;
	keywordAction?: 'opt_out' | 'opt_in';
	eventIds: string[];
}

export interface InboundDeps {
	clock: Clock;
	logger: Logger;
	repo: InboundRepository;
	outbox: EventOutbox;
	accounts: AccountService;
	instances: InstanceService;
	suppressions: SuppressionService;
	messageLog: MessageStatusLog;
	/** The gateway's group commit: status reports join the sends' batches, after the outcome they follow. */
	writes: CommitQueue;
}

const source = (instance: Instance, at: number): EventSource => ({
	instanceId: instance.id,
	instanceName: instance.displayName,
	at,
});

/**
 * The provider-neutral entry point for what arrives from WhatsApp. Each call is one transaction: the
 * inbound log (deduplicated on the provider's message id), the conversation window, opt-out/opt-in and
 * the outbox rows commit together.
 */
export class InboundService {
	private readonly statuses: StatusReports;

	constructor(private readonly deps: InboundDeps) {
		this.statuses = new StatusReports(deps);
	}

	keywordLists(accountId: number): KeywordLists {
		const custom = this.deps.repo.keywords(accountId);
		return { optOut: custom.optOut ?? DEFAULT_OPT_OUT, optIn: custom.optIn ?? DEFAULT_OPT_IN };
	}

	/** Replaces an account's keyword lists; null restores the default list. */
	setKeywordLists(accountId: number, optOut: string[] | null, optIn: string[] | null): KeywordLists {
		const clean = (list: string[] | null) => (list === null ? null : list.map((word) => word.trim()).filter(Boolean));
		this.deps.accounts.get(accountId);
		this.deps.repo.setKeywords(accountId, clean(optOut), clean(optIn));
		return this.keywordLists(accountId);
	}

	/** Joins the group commit: stored (and its events recorded) once the promise resolves. */
	receiveMessage(message: InboundMessage): Promise<InboundResult> {
		const instance = this.deps.instances.get(message.instanceId);
		const from = normalizePhone(message.from, null);
		if (!from) return Promise.reject(new InputError(`"${message.from}" is not a valid phone number`));
		const now = this.deps.clock.now();
		const at = message.receivedAt ?? now;
		const text = message.text;
		const { repo, outbox } = this.deps;
		return this.deps.writes.run((): InboundResult => {
			const inboundId = repo.insertInbound({
				account_id: instance.accountId,
				instance_id: instance.id,
				provider_message_id: message.providerMessageId,
				from_phone: from,
				group_id: message.groupId ?? null,
				message_type: message.messageType ?? 'text',
				message_text: text,
				received_at: at,
				created_at: now,
			});
			if (inboundId === undefined) return { duplicate: true, eventIds: [] };
			const recorded: (string | undefined)[] = [];
			if (message.groupId) {
				recorded.push(
					outbox.record(
						instance.accountId,
						events.groupMessageReceived(source(instance, at), {
							groupId: message.groupId,
							from,
							text,
							externalMessageId: message.providerMessageId,
						}),
					),
				);
				return { duplicate: false, inboundId, eventIds: recorded.filter(isId) };
			}
			repo.touchWindow(instance.id, from, at);
			recorded.push(
				outbox.record(
					instance.accountId,
					events.messageReceived(source(instance, at), {
						from,
						text,
						messageType: message.messageType ?? 'text',
						externalMessageId: message.providerMessageId,
					}),
				),
			);
			const keywordAction = classifyKeyword(text, this.keywordLists(instance.accountId));
			if (keywordAction) {
				repo.setKeywordAction(inboundId, keywordAction);
				recorded.push(this.applyKeyword(keywordAction, instance, from, text, at));
			}
			return { duplicate: false, inboundId, keywordAction, eventIds: recorded.filter(isId) };
		});
	}

	private applyKeyword(action: 'opt_out' | 'opt_in', instance: Instance, from: string, text: string, at: number) {
		const existing = this.deps.suppressions.find(instance.accountId, from);
		if (action === 'opt_in') {
			// START lifts only what STOP set: an operator's suppression stays.
			if (existing?.source === 'keyword') this.deps.suppressions.remove(instance.accountId, from);
			return undefined;
		}
		if (!existing) this.deps.suppressions.add(instance.accountId, from, 'recipient_requested_stop', 'keyword');
		this.deps.logger.info({ instanceId: instance.id }, 'recipient opted out');
		return this.deps.outbox.record(instance.accountId, events.recipientOptedOut(source(instance, at), { from, text }));
	}

	/**
	 * Everything a provider reported for one instance, in order: messages, statuses, connection changes,
	 * calls, group and conversation updates. Results are merged (a message that was a duplicate says so).
	 */
	async receive(instanceId: string, reported: InboundEvent[]): Promise<InboundResult> {
		const merged: InboundResult = { duplicate: reported.length > 0, eventIds: [] };
		for (const item of reported) {
			const result = await this.receiveOne(instanceId, item);
			merged.duplicate &&= result.duplicate;
			merged.inboundId ??= result.inboundId;
			merged.keywordAction ??= result.keywordAction;
			merged.eventIds.push(...result.eventIds);
		}
		return merged;
	}

	private receiveOne(instanceId: string, item: InboundEvent): Promise<InboundResult> {
		switch (item.kind) {
			case 'message':
				return this.receiveMessage({ ...item, instanceId });
			case 'status':
				return this.receiveStatus({ ...item, instanceId });
			case 'connection':
				return this.receiveConnectionState(instanceId, item.state, item.at);
			case 'qr':
				if (item.code) this.deps.instances.setQr(instanceId, item.code, item.at ?? this.deps.clock.now());
				return this.recordEvent(instanceId, item.at, (source) => events.instanceQrUpdated(source, item));
			case 'call':
				return this.recordEvent(
					instanceId,
					item.at,
					(source) => events.call(item.missed ? 'call.missed' : 'call.received', source, item),
					item.providerEventId,
				);
			case 'group':
				return this.recordEvent(instanceId, item.at, (source) => events.groupUpdated(source, item));
			case 'conversation':
				return this.recordEvent(instanceId, item.at, (source) => events.conversationUpdated(source, item));
		}
	}

	/**
	 * An event that changes no state of the gateway's: it is only recorded for the subscribers, once per
	 * provider event id when the provider gives one. Joins the group commit.
	 */
	private recordEvent(
		instanceId: string,
		at: number | undefined,
		build: (source: EventSource) => EventPayload,
		providerEventId?: string,
	): Promise<InboundResult> {
		const instance = this.deps.instances.get(instanceId);
		const now = this.deps.clock.now();
		return this.deps.writes.run((): InboundResult => {
			if (providerEventId !== undefined && !this.deps.repo.firstProviderEvent(instance.id, providerEventId, now)) {
				return { duplicate: true, eventIds: [] };
			}
			const id = this.deps.outbox.record(instance.accountId, build(source(instance, at ?? now)));
			return { duplicate: false, eventIds: id ? [id] : [] };
		});
	}

	/**
	 * Delivered/read and other statuses of a sent message (status-reports.ts): joins the group commit, queued
	 * after the outcome of the send it reports on; a report that beat that outcome is held until it lands.
	 */
	receiveStatus(update: StatusUpdate): Promise<InboundResult> {
		return this.statuses.receive(update);
	}

	/** Inside the job that records a send's provider message id: the reports held for it, applied in order. */
	applyHeldStatuses(instanceId: string, providerMessageId: string): string[] {
		return this.statuses.applyHeld(instanceId, providerMessageId);
	}

	/** Held status reports that no send claimed in time (housekeeping). */
	expireHeldStatuses(now = this.deps.clock.now()): number {
		return this.statuses.expireHeld(now);
	}

	/** A provider reported the instance's connection state; joins the group commit. */
	async receiveConnectionState(instanceId: string, state: string, at = this.deps.clock.now()): Promise<InboundResult> {
		if (this.deps.instances.get(instanceId).connectionState === state) return { duplicate: true, eventIds: [] };
		return this.deps.writes.run(() => this.changeConnectionState(instanceId, state, at));
	}

	/**
	 * Runs `change` (a write to the instance itself, such as its settings) in a job of the group commit; when
	 * it returns a connection state, the instance goes to it in the same transaction, with its events.
	 */
	changeInstance(
		instanceId: string,
		change: () => string | undefined,
		at = this.deps.clock.now(),
	): Promise<InboundResult> {
		return this.deps.writes.run((): InboundResult => {
			const state = change();
			return state === undefined
				? { duplicate: true, eventIds: [] }
				: this.changeConnectionState(instanceId, state, at);
		});
	}

	/** Inside a job: the instance goes to `state`, with instance.connection_updated (and .connected or .disconnected). */
	private changeConnectionState(instanceId: string, state: string, at: number): InboundResult {
		// Read again, from the table, in the batch: an earlier report in it may have made this one old news.
		const instance = this.deps.instances.findById(instanceId);
		if (!instance || instance.connectionState === state) return { duplicate: true, eventIds: [] };
		this.deps.instances.setConnectionState(instance.id, state);
		const recorded = [
			this.deps.outbox.record(
				instance.accountId,
				events.instanceConnection('instance.connection_updated', source(instance, at), { connectionState: state }),
			),
		];
		if (state === 'connected' || state === 'disconnected') {
			const type = state === 'connected' ? 'instance.connected' : 'instance.disconnected';
			recorded.push(
				this.deps.outbox.record(
					instance.accountId,
					events.instanceConnection(type, source(instance, at), { connectionState: state }),
				),
			);
		}
		return { duplicate: false, eventIds: recorded.filter(isId) };
	}

	/** Drops inbound messages, conversation windows and provider event ids older than `before`. */
	prune(before: number) {
		return this.deps.repo.prune(before);
	}

	lastInboundAt(instanceId: string, phone: string): number | undefined {
		return this.deps.repo.lastInboundAt(instanceId, phone);
	}

	/** A page of the account's inbound log, newest first (one more than `limit` tells the caller there is another page). */
	search(accountId: number, filter: InboundFilter, limit: number): InboundRow[] {
		return this.deps.repo.search(accountId, filter, limit);
	}

	/** The opt-out keyword message behind a keyword suppression (its text and when it came). */
	lastOptOut(accountId: number, phone: string): InboundRow | undefined {
		return this.deps.repo.lastOptOut(accountId, phone);
	}
}

function isId(value: string | undefined): value is string {
	return value !== undefined;
}
