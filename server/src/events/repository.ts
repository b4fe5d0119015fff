import type { Db } from '../db';
import { DeliveryLogRepository } from './delivery-log-repository';
import { OutboxRepository } from './outbox-repository';
import { WebhookRepository } from './webhook-repository';

/**
 * The events area's outbox tables, one repository per concern: the subscriptions, the outbox as the delivery
 * worker's queue, and the deliveries as people look them up (inbound-repository.ts has the inbound side). The
 * area's services share one and use the parts they need; a transaction spans them all (one database).
 */
export class EventsRepository {
	readonly webhooks: WebhookRepository;
	readonly outbox: OutboxRepository;
	readonly deliveryLog: DeliveryLogRepository;

	constructor(private readonly db: Db) {
		this.webhooks = new WebhookRepository(db);
		this.outbox = new OutboxRepository(db);
		this.deliveryLog = new DeliveryLogRepository(db);
	}

	transaction<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}
}
