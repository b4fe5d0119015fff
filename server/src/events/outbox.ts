import { randomBase62 } from '../accounts/keys';
import type { Clock } from '../clock';
import type { EventPayload } from './catalog';
import type { EventsRepository, WebhookRow } from './repository';

/**
 * Writes an event and one outbox delivery per matching subscription. Called inside the transaction of
 * the state change that caused the event, so the two commit together or not at all.
 */
export class EventOutbox {
  private readonly subscribedTypes = new WeakMap<WebhookRow, Set<string>>();
  private readonly listeners = new Set<(webhookIds: string[]) => void>();

  constructor(
    private readonly repo: EventsRepository,
    private readonly clock: Clock,
  ) {}

  /** Told which subscriptions got deliveries (the delivery worker starts at once instead of at its next poll). */
  onRecorded(listener: (webhookIds: string[]) => void): void {
    this.listeners.add(listener);
  }

  /** Returns the event id, or undefined when no enabled subscription wants this event. */
  record(accountId: number, payload: EventPayload): string | undefined {
    const subscribers = this.repo
      .enabledWebhooks(accountId)
      .filter((webhook) => this.wants(webhook, payload));
    if (subscribers.length === 0) return undefined;
    const id = `evt_${randomBase62(24)}`;
    const now = this.clock.now();
    this.repo.insertEvent(id, accountId, payload.instance_id, payload.event, JSON.stringify(payload), now);
    for (const webhook of subscribers) this.repo.insertDelivery(id, webhook.id, now);
    const webhookIds = subscribers.map((webhook) => webhook.id);
    for (const listener of this.listeners) setImmediate(() => listener(webhookIds));
    return id;
  }

  private wants(webhook: WebhookRow, payload: EventPayload): boolean {
    if (webhook.instance_id !== null && webhook.instance_id !== payload.instance_id) return false;
    let types = this.subscribedTypes.get(webhook);
    if (!types) {
      types = new Set(JSON.parse(webhook.events) as string[]);
      this.subscribedTypes.set(webhook, types);
    }
    return types.has(payload.event);
  }
}
