import { randomBase62 } from '../accounts/keys';
import type { Clock } from '../clock';
import type { EventPayload } from './catalog';
import type { EventsRepository } from './repository';
import type { WebhookRow } from './webhook-repository';

/**
 * Builds the bytes a subscription of another `format` receives for an event (the seed's schema is
 * `gateway`, built by the catalog). Runs inside the recording transaction, so it must not write.
 */
export type PayloadFormatter = (payload: EventPayload, webhook: WebhookRow, eventId: string) => string;

/**
 * Writes an event and one outbox delivery per matching subscription. Called inside the transaction of
 * the state change that caused the event, so the two commit together or not at all.
 */
export class EventOutbox {
	private readonly subscribedTypes = new WeakMap<WebhookRow, Set<string>>();
	private readonly listeners = new Set<(webhookIds: string[]) => void>();
	private readonly formatters = new Map<string, PayloadFormatter>();

	constructor(
		private readonly repo: EventsRepository,
		private readonly clock: Clock,
	) {}

	/** Told which subscriptions got deliveries (the delivery worker starts at once instead of at its next poll). */
	onRecorded(listener: (webhookIds: string[]) => void): void {
		this.listeners.add(listener);
	}

	/**
	 * Registers the payload shape of subscriptions whose `format` is `name` (the 3CX area registers its
	 * Generic SMS envelope). Such a subscription gets an event row of its own, with its own bytes, so
	 * every attempt still sends exactly the bytes that were recorded.
	 */
	addFormat(name: string, formatter: PayloadFormatter): void {
		this.formatters.set(name, formatter);
	}

	/**
	 * Returns the event id (the seed-shaped event's when there is one), or undefined when no enabled
	 * subscription wants this event. `event` may be given as a function that builds it: it is then built only
	 * when the account has an enabled subscription at all (the hot paths' events are built for nobody otherwise:
	 * a sent message and its two status reports make five).
	 */
	record(accountId: number, event: EventPayload | (() => EventPayload)): string | undefined {
		const enabled = this.repo.webhooks.enabledOf(accountId);
		if (enabled.length === 0) return undefined;
		const payload = typeof event === 'function' ? event() : event;
		const subscribers = enabled.filter((webhook) => this.wants(webhook, payload));
		if (subscribers.length === 0) return undefined;
		const now = this.clock.now();
		let id: string | undefined;
		let formattedId: string | undefined;
		for (const webhook of subscribers) {
			const formatter = webhook.format === 'gateway' ? undefined : this.formatters.get(webhook.format);
			if (formatter) {
				const ownId = `evt_${randomBase62(24)}`;
				this.repo.outbox.insertEvent(
					ownId,
					accountId,
					payload.instance_id,
					payload.event,
					formatter(payload, webhook, ownId),
					now,
				);
				this.repo.outbox.insertDelivery(ownId, webhook.id, now);
				formattedId ??= ownId;
				continue;
			}
			if (id === undefined) {
				id = `evt_${randomBase62(24)}`;
				this.repo.outbox.insertEvent(id, accountId, payload.instance_id, payload.event, JSON.stringify(payload), now);
			}
			this.repo.outbox.insertDelivery(id, webhook.id, now);
		}
		const webhookIds = subscribers.map((webhook) => webhook.id);
		for (const listener of this.listeners) setImmediate(() => listener(webhookIds));
		return id ?? formattedId;
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
