import type { Db } from '../db';
import type { DeliveryRow } from './outbox-repository';

/**
 * SQL for the deliveries as the API, the CLI and retention see them: listed and looked up, queued again by
 * an operator, counted per subscription, and pruned once finished (outbox-repository.ts has the queue itself).
 */
export class DeliveryLogRepository {
	private readonly selectDelivery;
	private readonly selectDeliveries;
	private readonly requeueDelivery;
	private readonly countPendingStmt;
	private readonly pruneDeliveries;
	private readonly pruneEvents;

	constructor(private readonly db: Db) {
		this.selectDelivery = db.prepare<[number], DeliveryRow & { event_type: string }>(
			'SELECT d.*, e.type AS event_type FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?',
		);
		this.selectDeliveries = db.prepare<
			[{ accountId: number | null; webhookId: string | null; status: string | null; limit: number }],
			DeliveryRow & { event_type: string; account_id: number }
		>(
			`SELECT d.*, e.type AS event_type, e.account_id FROM deliveries d JOIN events e ON e.id = d.event_id
       WHERE (@accountId IS NULL OR e.account_id = @accountId) AND (@webhookId IS NULL OR d.webhook_id = @webhookId)
         AND (@status IS NULL OR d.status = @status)
       ORDER BY d.id DESC LIMIT @limit`,
		);
		this.requeueDelivery = db.prepare<[number, number, number]>(
			"UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
		);
		this.countPendingStmt = db
			.prepare<[string], number>("SELECT count(*) FROM deliveries WHERE webhook_id = ? AND status = 'pending'")
			.pluck();
		this.pruneDeliveries = db.prepare<[number]>(
			"DELETE FROM deliveries WHERE status IN ('succeeded', 'failed') AND updated_at < ?",
		);
		this.pruneEvents = db.prepare<[number]>(
			'DELETE FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)',
		);
	}

	/** The subscription's deliveries still waiting to be sent. */
	pendingCount(webhookId: string): number {
		return this.countPendingStmt.get(webhookId) ?? 0;
	}

	/** One delivery with its event's type. */
	find(id: number): (DeliveryRow & { event_type: string }) | undefined {
		return this.selectDelivery.get(id);
	}

	list(filter: { accountId?: number; webhookId?: string; status?: string; limit: number }) {
		return this.selectDeliveries.all({
			accountId: filter.accountId ?? null,
			webhookId: filter.webhookId ?? null,
			status: filter.status ?? null,
			limit: filter.limit,
		});
	}

	requeue(id: number, now: number): void {
		this.requeueDelivery.run(now, now, id);
	}

	/**
	 * Finished deliveries and their events older than `before`.
	 * Pending deliveries (and so their events) are kept whatever their age.
	 */
	prune(before: number): { deliveries: number; events: number } {
		return this.db
			.transaction(() => ({
				deliveries: this.pruneDeliveries.run(before).changes,
				events: this.pruneEvents.run(before).changes,
			}))
			.immediate();
	}
}
