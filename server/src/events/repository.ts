import type { Db } from '../db';
import { ReadCache } from '../db/read-cache';

export interface WebhookRow {
	id: string;
	account_id: number;
	destination_url: string;
	events: string;
	instance_id: string | null;
	secret: string;
	enabled: 0 | 1;
	disabled_reason: string | null;
	created_at: number;
	updated_at: number;
	/** The area that owns a managed subscription (`3cx:<integration id>`); null for a customer's own. */
	managed_by: string | null;
	/** The payload shape its deliveries carry: `gateway` (the seed's event schemas) or one an owner registered. */
	format: string;
	/** Delivery health, written by the delivery worker after attempts. */
	last_success_at: number | null;
	last_failure_at: number | null;
	last_failure_reason: string | null;
	consecutive_failures: number;
}

/** What the delivery worker keeps in memory about a subscription it is serving. */
export interface WebhookDeliveryState {
	account_id: number;
	consecutive_failures: number;
}

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
	webhook_enabled: 0 | 1;
}

/** SQL for the events area's outbox tables: webhook subscriptions, events, deliveries (inbound-repository.ts has the rest). */
export class EventsRepository {
	private readonly insertWebhookStmt;
	private readonly selectWebhook;
	private readonly selectWebhooks;
	private readonly selectAllWebhooks;
	private readonly selectEnabledWebhooks;
	private readonly setWebhookEnabled;
	private readonly retargetWebhookStmt;
	private readonly deleteWebhookStmt;
	private readonly deleteWebhookDeliveries;
	private readonly insertEventStmt;
	private readonly insertDeliveryStmt;
	private readonly selectDue;
	private readonly finishDelivery;
	private readonly retryDelivery;
	private readonly selectDelivery;
	private readonly selectDeliveries;
	private readonly requeueDelivery;
	private readonly pruneDeliveries;
	private readonly pruneEvents;
	private readonly selectDueIdsFor;
	private readonly selectPendingDelivery;
	private readonly selectPendingWebhooks;
	private readonly selectHasPending;
	private readonly webhooksByAccount: ReadCache<WebhookRow[]>;
	private readonly countWebhooksStmt;
	private readonly countPendingStmt;
	private readonly selectDeliveryState;
	private readonly markSuccess;
	private readonly markFailure;

	constructor(private readonly db: Db) {
		this.webhooksByAccount = new ReadCache(db);
		this.insertWebhookStmt = db.prepare<
			[Omit<WebhookRow, 'last_success_at' | 'last_failure_at' | 'last_failure_reason' | 'consecutive_failures'>]
		>(
			`INSERT INTO webhooks (id, account_id, destination_url, events, instance_id, secret, enabled, disabled_reason,
         created_at, updated_at, managed_by, format)
       VALUES (@id, @account_id, @destination_url, @events, @instance_id, @secret, @enabled, @disabled_reason,
         @created_at, @updated_at, @managed_by, @format)`,
		);
		this.retargetWebhookStmt = db.prepare<[string, string, string, number, string]>(
			'UPDATE webhooks SET destination_url = ?, format = ?, secret = ?, updated_at = ? WHERE id = ?',
		);
		this.selectWebhook = db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?');
		this.selectWebhooks = db.prepare<[number], WebhookRow>(
			'SELECT * FROM webhooks WHERE account_id = ? ORDER BY created_at, id',
		);
		this.selectAllWebhooks = db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY account_id, created_at, id');
		this.selectEnabledWebhooks = db.prepare<[number], WebhookRow>(
			'SELECT * FROM webhooks WHERE account_id = ? AND enabled = 1 ORDER BY created_at, id',
		);
		this.setWebhookEnabled = db.prepare<[0 | 1, string | null, number, string]>(
			'UPDATE webhooks SET enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?',
		);
		this.deleteWebhookStmt = db.prepare<[string]>('DELETE FROM webhooks WHERE id = ?');
		this.deleteWebhookDeliveries = db.prepare<[string]>('DELETE FROM deliveries WHERE webhook_id = ?');
		this.insertEventStmt = db.prepare<[string, number, string | null, string, string, number]>(
			'INSERT INTO events (id, account_id, instance_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)',
		);
		this.insertDeliveryStmt = db.prepare<[string, string, number, number, number]>(
			`INSERT INTO deliveries (event_id, webhook_id, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, 'pending', ?, ?, ?)`,
		);
		this.selectDue = db.prepare<[number, number], DueDelivery>(
			`SELECT d.*, e.type AS event_type, e.payload, w.destination_url, w.secret, w.enabled AS webhook_enabled
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
		// Ids only, from the covering index deliveries_webhook_due in its own order (no sort, no join).
		this.selectDueIdsFor = db
			.prepare<[string, number, number], number>(
				`SELECT id FROM deliveries WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at <= ?
         ORDER BY next_attempt_at, id LIMIT ?`,
			)
			.pluck();
		this.selectPendingDelivery = db.prepare<[number], DueDelivery>(
			`SELECT d.*, e.type AS event_type, e.payload, w.destination_url, w.secret, w.enabled AS webhook_enabled
       FROM deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
       WHERE d.id = ? AND d.status = 'pending'`,
		);
		this.selectPendingWebhooks = db
			.prepare<[], string>("SELECT DISTINCT webhook_id FROM deliveries WHERE status = 'pending'")
			.pluck();
		this.selectHasPending = db
			.prepare<[string], number>("SELECT 1 FROM deliveries WHERE webhook_id = ? AND status = 'pending' LIMIT 1")
			.pluck();
		this.pruneDeliveries = db.prepare<[number]>(
			"DELETE FROM deliveries WHERE status IN ('succeeded', 'failed') AND updated_at < ?",
		);
		this.pruneEvents = db.prepare<[number]>(
			'DELETE FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)',
		);
		// The customer's own subscriptions: one another area manages (3CX forwarding) does not count.
		this.countWebhooksStmt = db
			.prepare<[number], number>('SELECT count(*) FROM webhooks WHERE account_id = ? AND managed_by IS NULL')
			.pluck();
		this.countPendingStmt = db
			.prepare<[string], number>("SELECT count(*) FROM deliveries WHERE webhook_id = ? AND status = 'pending'")
			.pluck();
		this.selectDeliveryState = db.prepare<[string], WebhookDeliveryState>(
			'SELECT account_id, consecutive_failures FROM webhooks WHERE id = ?',
		);
		this.markSuccess = db.prepare<[number, string]>(
			'UPDATE webhooks SET last_success_at = ?, consecutive_failures = 0 WHERE id = ?',
		);
		this.markFailure = db.prepare<[number, string, string]>(
			'UPDATE webhooks SET last_failure_at = ?, last_failure_reason = ?, consecutive_failures = consecutive_failures + 1 WHERE id = ?',
		);
	}

	transaction<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}

	// ---- webhooks ----
	insertWebhook(row: WebhookRow): void {
		const {
			last_success_at: _s,
			last_failure_at: _f,
			last_failure_reason: _r,
			consecutive_failures: _c,
			...columns
		} = row;
		this.insertWebhookStmt.run(columns);
		this.webhooksByAccount.invalidate();
	}

	findWebhook(id: string): WebhookRow | undefined {
		return this.selectWebhook.get(id);
	}

	listWebhooks(accountId?: number): WebhookRow[] {
		return accountId === undefined ? this.selectAllWebhooks.all() : this.selectWebhooks.all(accountId);
	}

	/** The account's enabled subscriptions; read for every event, so cached. */
	enabledWebhooks(accountId: number): WebhookRow[] {
		return this.webhooksByAccount.get(accountId, (id) => this.selectEnabledWebhooks.all(id)) ?? [];
	}

	setEnabled(id: string, enabled: boolean, reason: string | null, now: number): void {
		this.setWebhookEnabled.run(enabled ? 1 : 0, enabled ? null : reason, now, id);
		this.webhooksByAccount.invalidate();
	}

	/** A managed subscription follows its owner's settings: where it delivers, in which shape, signed with what. */
	retargetWebhook(id: string, destinationUrl: string, format: string, secret: string, now: number): void {
		this.retargetWebhookStmt.run(destinationUrl, format, secret, now, id);
		this.webhooksByAccount.invalidate();
	}

	deleteWebhook(id: string): void {
		this.deleteWebhookDeliveries.run(id);
		this.deleteWebhookStmt.run(id);
		this.webhooksByAccount.invalidate();
	}

	countWebhooks(accountId: number): number {
		return this.countWebhooksStmt.get(accountId) ?? 0;
	}

	pendingDeliveryCount(webhookId: string): number {
		return this.countPendingStmt.get(webhookId) ?? 0;
	}

	webhookDeliveryState(webhookId: string): WebhookDeliveryState | undefined {
		return this.selectDeliveryState.get(webhookId);
	}

	/** Health after an attempt; the outbox's cached rows do not carry health, so they stay valid. */
	recordWebhookSuccess(webhookId: string, now: number): void {
		this.markSuccess.run(now, webhookId);
	}

	recordWebhookFailure(webhookId: string, reason: string, now: number): void {
		this.markFailure.run(now, reason, webhookId);
	}

	// ---- events and the outbox ----
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

	/** One delivery with its event's type. */
	findDelivery(id: number): (DeliveryRow & { event_type: string }) | undefined {
		return this.selectDelivery.get(id);
	}

	listDeliveries(filter: { accountId?: number; webhookId?: string; status?: string; limit: number }) {
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
		return this.transaction(() => ({
			deliveries: this.pruneDeliveries.run(before).changes,
			events: this.pruneEvents.run(before).changes,
		}));
	}
}
