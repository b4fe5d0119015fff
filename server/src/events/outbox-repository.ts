import type { Db } from '../db';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryRow {
	id: number;
	event_id: string;
	webhook_id: string;
	status: DeliveryStatus;
	attempts: number;
	next_attempt_at: number;
	last_status_code: number | null;
	last_error: string | null;
	created_at: number;
	updated_at: number;
	delivered_at: number | null;
}

/** A due delivery with what sending it needs. */
export interface DueDelivery extends DeliveryRow {
	event_type: string;
	payload: string;
	destination_url: string;
	secret: string;
	previous_secret: string | null;
	previous_secret_expires_at: number | null;
	webhook_enabled: 0 | 1;
}

/**
 * SQL for the outbox as a queue: an event and its deliveries recorded, the delivery worker's reads of what is
 * due, and the outcome of each attempt (delivery-log-repository.ts has what people look at and prune).
 */
export class OutboxRepository {
	private readonly insertEventStmt;
	private readonly insertDeliveryStmt;
	private readonly selectDue;
	private readonly finishDelivery;
	private readonly retryDelivery;
	private readonly selectDueIdsFor;
	private readonly selectPendingDelivery;
	private readonly selectPendingWebhooks;
	private readonly selectHasPending;

	constructor(db: Db) {
		this.insertEventStmt = db.prepare<[string, number, string | null, string, string, number]>(
			'INSERT INTO events (id, account_id, instance_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)',
		);
		this.insertDeliveryStmt = db.prepare<[string, string, number, number, number]>(
			`INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, 'pending', ?, ?, ?)`,
		);
		this.selectDue = db.prepare<[number, number], DueDelivery>(
			`SELECT d.*, e.type AS event_type, e.payload, w.destination_url, w.secret, w.previous_secret,
         w.previous_secret_expires_at, w.enabled AS webhook_enabled
       FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= ?
       ORDER BY d.next_attempt_at, d.id LIMIT ?`,
		);
		this.finishDelivery = db.prepare<[DeliveryStatus, number | null, string | null, number, number | null, number]>(
			`UPDATE deliveries SET status = ?, attempts = attempts + 1, last_status_code = ?, last_error = ?, updated_at = ?,
         delivered_at = ?
       WHERE id = ?`,
		);
		this.retryDelivery = db.prepare<[number, number | null, string | null, number, number]>(
			`UPDATE deliveries SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_status_code = ?,
         last_error = ?, updated_at = ?
       WHERE id = ?`,
		);
		// Ids only, from the covering index deliveries_webhook_due in its own order (no sort, no join).
		this.selectDueIdsFor = db
			.prepare<[string, number, number], number>(
				`SELECT id FROM deliveries WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
			)
			.pluck();
		this.selectPendingDelivery = db.prepare<[number], DueDelivery>(
			`SELECT d.*, e.type AS event_type, e.payload, w.destination_url, w.secret, w.previous_secret,
         w.previous_secret_expires_at, w.enabled AS webhook_enabled
       FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.id = ? AND d.status = 'pending'`,
		);
		this.selectPendingWebhooks = db
			.prepare<[], string>("SELECT DISTINCT webhook_id FROM deliveries WHERE status = 'pending'")
			.pluck();
		this.selectHasPending = db
			.prepare<[string], number>("SELECT 1 FROM deliveries WHERE webhook_id = ? AND status = 'pending' LIMIT 1")
			.pluck();
	}

	insertEvent(
		id: string,
		accountId: number,
		instanceId: string | null,
		type: string,
		payload: string,
		now: number,
	): void {
		this.insertEventStmt.run(id, accountId, instanceId, type, payload, now);
	}

	insertDelivery(eventId: string, webhookId: string, now: number): void {
		this.insertDeliveryStmt.run(eventId, webhookId, now, now, now);
	}

	dueDeliveries(now: number, limit: number): DueDelivery[] {
		return this.selectDue.all(now, limit);
	}

	/**
	 * The ids of a subscription's first `limit` due deliveries, earliest first: the worker drops those already
	 * in flight and loads only the ones it sends (`pendingDelivery`), so a pump reads no payload it discards.
	 */
	dueDeliveryIdsFor(webhookId: string, now: number, limit: number): number[] {
		return this.selectDueIdsFor.all(webhookId, now, limit);
	}

	/** A pending delivery with its event and subscription; undefined once it is no longer pending. */
	pendingDelivery(id: number): DueDelivery | undefined {
		return this.selectPendingDelivery.get(id);
	}

	webhooksWithPendingDeliveries(): string[] {
		return this.selectPendingWebhooks.all();
	}

	hasPendingDeliveries(webhookId: string): boolean {
		return this.selectHasPending.get(webhookId) !== undefined;
	}

	completeDelivery(
		id: number,
		outcome: { status: 'succeeded' | 'failed'; statusCode: number | null; error: string | null },
		now: number,
	): void {
		this.finishDelivery.run(
			outcome.status,
			outcome.statusCode,
			outcome.error,
			now,
			outcome.status === 'succeeded' ? now : null,
			id,
		);
	}

	scheduleRetry(id: number, at: number, statusCode: number | null, error: string | null, now: number): void {
		this.retryDelivery.run(at, statusCode, error, now, id);
	}
}
