import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import { InputError } from '../input-error';
import type { Instance, InstanceService } from '../instances/service';
import type { Logger } from '../logger';
import { normalizePhone } from '../messaging/request';
import type { SendService } from '../messaging/service';
import type { SuppressionService } from '../messaging/suppressions';
import { events, type EventSource } from './catalog';
import { classifyKeyword, DEFAULT_OPT_IN, DEFAULT_OPT_OUT, type KeywordLists } from './keywords';
import type { EventOutbox } from './outbox';
import type { EventsRepository } from './repository';

/** A message a provider received, normalized (ARCHITECTURE §5). */
export interface InboundMessage {
  instanceId: string;
  providerMessageId: string;
  from: string;
  text: string;
  messageType?: string;
  groupId?: string;
  receivedAt?: number;
}

/** A provider's status report about a message the gateway sent. */
export interface StatusUpdate {
  instanceId: string;
  providerMessageId: string;
  status: string;
  at?: number;
}

export interface InboundResult {
  duplicate: boolean;
  inboundId?: number;
  keywordAction?: 'opt_out' | 'opt_in';
  eventIds: string[];
}

export interface InboundDeps {
  clock: Clock;
  logger: Logger;
  repo: EventsRepository;
  outbox: EventOutbox;
  accounts: AccountService;
  instances: InstanceService;
  suppressions: SuppressionService;
  sends: SendService;
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
  constructor(private readonly deps: InboundDeps) {}

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

  receiveMessage(message: InboundMessage): InboundResult {
    const instance = this.deps.instances.get(message.instanceId);
    const from = normalizePhone(message.from, null);
    if (!from) throw new InputError(`"${message.from}" is not a valid phone number`);
    const at = message.receivedAt ?? this.deps.clock.now();
    const text = message.text;
    const { repo, outbox } = this.deps;
    return repo.transaction((): InboundResult => {
      const inboundId = repo.insertInbound({
        account_id: instance.accountId,
        instance_id: instance.id,
        provider_message_id: message.providerMessageId,
        from_phone: from,
        group_id: message.groupId ?? null,
        message_type: message.messageType ?? 'text',
        message_text: text,
        received_at: at,
        created_at: this.deps.clock.now(),
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
   * Delivered/read and other statuses of a sent message: the message log moves forward (never back, so a
   * provider's repeated report changes nothing) and `message.status_updated` plus the specific event go out.
   */
  receiveStatus(update: StatusUpdate): InboundResult {
    const instance = this.deps.instances.get(update.instanceId);
    const at = update.at ?? this.deps.clock.now();
    return this.deps.repo.transaction((): InboundResult => {
      const entry = this.deps.sends.applyProviderStatus(instance.id, update.providerMessageId, update.status, at);
      if (!entry) return { duplicate: true, eventIds: [] };
      const fact = { from: entry.phone ?? undefined, externalMessageId: update.providerMessageId, status: update.status };
      const recorded = [this.deps.outbox.record(instance.accountId, events.messageStatus('message.status_updated', source(instance, at), fact))];
      if (update.status === 'delivered' || update.status === 'read') {
        const type = update.status === 'delivered' ? 'message.delivered' : 'message.read';
        recorded.push(this.deps.outbox.record(instance.accountId, events.messageStatus(type, source(instance, at), fact)));
      }
      return { duplicate: false, eventIds: recorded.filter(isId) };
    });
  }

  /** A provider reported the instance's connection state. */
  receiveConnectionState(instanceId: string, state: string, at = this.deps.clock.now()): InboundResult {
    const instance = this.deps.instances.get(instanceId);
    if (instance.connectionState === state) return { duplicate: true, eventIds: [] };
    return this.deps.repo.transaction((): InboundResult => {
      this.deps.instances.setConnectionState(instance.id, state);
      const recorded = [
        this.deps.outbox.record(
          instance.accountId,
          events.instanceConnection('instance.connection_updated', source(instance, at), { connectionState: state }),
        ),
      ];
      if (state === 'connected' || state === 'disconnected') {
        const type = state === 'connected' ? 'instance.connected' : 'instance.disconnected';
        recorded.push(this.deps.outbox.record(instance.accountId, events.instanceConnection(type, source(instance, at), { connectionState: state })));
      }
      return { duplicate: false, eventIds: recorded.filter(isId) };
    });
  }

  /** Drops finished deliveries, events, inbound messages and conversation windows older than `before`. */
  prune(before: number) {
    return this.deps.repo.prune(before);
  }

  recent(accountId: number, limit = 50) {
    return this.deps.repo.recentInbound(accountId, limit);
  }

  lastInboundAt(instanceId: string, phone: string): number | undefined {
    return this.deps.repo.lastInboundAt(instanceId, phone);
  }
}

function isId(value: string | undefined): value is string {
  return value !== undefined;
}
