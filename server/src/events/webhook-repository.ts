import type { Db } from '../db';
import { ReadCache } from '../db/read-cache';

export interface WebhookRow {
	id: string;
	account_id: number;
	destination_url: string;
	events: string;
	instance_id: string | null;
	secret: string;
	/** During a rotation's overlap, the secret the current one replaced; it signs too until it expires. */
	previous_secret: string | null;
	/** When the overlap ends (epoch ms); the previous secret is ignored from then on. */
	previous_secret_expires_at: number | null;
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

/** SQL for the webhook subscriptions: their settings, the cached list the outbox reads, and their delivery health. */
export class WebhookRepository {
	private readonly insertStmt;
	private readonly selectOne;
	private readonly selectOfAccount;
	private readonly selectAll;
	private readonly selectEnabled;
	private readonly setEnabledStmt;
	private readonly retargetStmt;
	private readonly rotateStmt;
	private readonly deleteStmt;
	private readonly deleteDeliveries;
	private readonly enabledByAccount: ReadCache<WebhookRow[]>;
	private readonly countStmt;
	private readonly selectDeliveryState;
	private readonly markSuccess;
	private readonly markFailure;

	constructor(db: Db) {
		this.enabledByAccount = new ReadCache(db);
		this.insertStmt = db.prepare<
			[Omit<WebhookRow, 'last_success_at' | 'last_failure_at' | 'last_failure_reason' | 'consecutive_failures'>]
		>(
			`INSERT INTO webhooks (id, account_id, destination_url, events, instance_id, secret, previous_secret,
         previous_secret_expires_at, enabled, disabled_reason, created_at, updated_at, managed_by, format)
       VALUES (@id, @account_id, @destination_url, @events, @instance_id, @secret, @previous_secret,
         @previous_secret_expires_at, @enabled, @disabled_reason, @created_at, @updated_at, @managed_by, @format)`,
		);
		this.retargetStmt = db.prepare<[string, string, string, number, string]>(
			`UPDATE webhooks SET destination_url = ?, format = ?, secret = ?, previous_secret = NULL,
         previous_secret_expires_at = NULL, updated_at = ? WHERE id = ?`,
		);
		this.rotateStmt = db.prepare<[string, string | null, number | null, number, string]>(
			`UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?, updated_at = ?
       WHERE id = ?`,
		);
		this.selectOne = db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?');
		this.selectOfAccount = db.prepare<[number], WebhookRow>(
			'SELECT * FROM webhooks WHERE account_id = ? ORDER BY created_at, id',
		);
		this.selectAll = db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY account_id, created_at, id');
		this.selectEnabled = db.prepare<[number], WebhookRow>(
			'SELECT * FROM webhooks WHERE account_id = ? AND enabled = 1 ORDER BY created_at, id',
		);
		this.setEnabledStmt = db.prepare<[0 | 1, string | null, number, string]>(
			'UPDATE webhooks SET enabled = ?, disabled_reason = ?, updated_at = ? WHERE id = ?',
		);
		this.deleteStmt = db.prepare<[string]>('DELETE FROM webhooks WHERE id = ?');
		this.deleteDeliveries = db.prepare<[string]>('DELETE FROM deliveries WHERE webhook_id = ?');
		// The customer's own subscriptions: one another area manages (3CX forwarding) does not count.
		this.countStmt = db
			.prepare<[number], number>('SELECT count(*) FROM webhooks WHERE account_id = ? AND managed_by IS NULL')
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

	insert(row: WebhookRow): void {
		const {
			last_success_at: _s,
			last_failure_at: _f,
			last_failure_reason: _r,
			consecutive_failures: _c,
			...columns
		} = row;
		this.insertStmt.run(columns);
		this.enabledByAccount.invalidate();
	}

	find(id: string): WebhookRow | undefined {
		return this.selectOne.get(id);
	}

	list(accountId?: number): WebhookRow[] {
		return accountId === undefined ? this.selectAll.all() : this.selectOfAccount.all(accountId);
	}

	/** The account's enabled subscriptions; read for every event, so cached. */
	enabledOf(accountId: number): WebhookRow[] {
		return this.enabledByAccount.get(accountId, (id) => this.selectEnabled.all(id)) ?? [];
	}

	setEnabled(id: string, enabled: boolean, reason: string | null, now: number): void {
		this.setEnabledStmt.run(enabled ? 1 : 0, enabled ? null : reason, now, id);
		this.enabledByAccount.invalidate();
	}

	/** A managed subscription follows its owner's settings: where it delivers, in which shape, signed with what. */
	retarget(id: string, destinationUrl: string, format: string, secret: string, now: number): void {
		this.retargetStmt.run(destinationUrl, format, secret, now, id);
		this.enabledByAccount.invalidate();
	}

	/**
	 * A new secret; `previous` keeps signing beside it until `previous.until` (null: the old secret stops at once).
	 * Deliveries read the secrets when they are sent, so pending ones and retries are signed with the new one too.
	 */
	rotateSecret(id: string, secret: string, previous: { secret: string; until: number } | null, now: number): void {
		this.rotateStmt.run(secret, previous?.secret ?? null, previous?.until ?? null, now, id);
		this.enabledByAccount.invalidate();
	}

	/** The subscription and its deliveries (they reference it, so they go first). */
	delete(id: string): void {
		this.deleteDeliveries.run(id);
		this.deleteStmt.run(id);
		this.enabledByAccount.invalidate();
	}

	count(accountId: number): number {
		return this.countStmt.get(accountId) ?? 0;
	}

	deliveryState(webhookId: string): WebhookDeliveryState | undefined {
		return this.selectDeliveryState.get(webhookId);
	}

	/** Health after an attempt; the outbox's cached rows do not carry health, so they stay valid. */
	recordSuccess(webhookId: string, now: number): void {
		this.markSuccess.run(now, webhookId);
	}

	recordFailure(webhookId: string, reason: string, now: number): void {
		this.markFailure.run(now, reason, webhookId);
	}
}
