import type { Db } from '../db';
import { ReadCache } from '../db/read-cache';

export interface IntegrationRow {
	id: number;
	account_id: number;
	instance_id: string;
	name: string;
	secret: string;
	hmac_secret: string | null;
	ip_allowlist: string | null;
	enabled: 0 | 1;
	outbound_enabled: 0 | 1;
	call_events_enabled: 0 | 1;
	templates: string;
	business_name: string;
	strict_window: 0 | 1;
	window_hours: number;
	destination_url: string | null;
	destination_format: 'gateway' | 'generic_sms';
	line_number: string | null;
	webhook_id: string | null;
	created_at: number;
	updated_at: number;
}

export type IntegrationColumns = Omit<IntegrationRow, 'id' | 'created_at' | 'updated_at'>;

export interface EventLogRow {
	id: number;
	integration_id: number;
	event_type: string;
	phone: string | null;
	external_message_id: string | null;
	conversation_id: string | null;
	agent_extension: string | null;
	queue: string | null;
	call_time: string | null;
	duration_seconds: number | null;
	status: 'processed' | 'skipped' | 'refused';
	action: string;
	reason: string | null;
	error_code: string | null;
	log_id: number | null;
	created_at: number;
}

/** SQL for the 3CX area's tables: integrations and their event log. */
export class ThreecxRepository {
	private readonly insertIntegrationStmt;
	private readonly updateIntegrationStmt;
	private readonly selectIntegration;
	private readonly selectIntegrations;
	private readonly selectAllIntegrations;
	private readonly deleteIntegrationStmt;
	private readonly insertEventStmt;
	private readonly selectEvents;
	private readonly selectLastSent;
	private readonly pruneEventsStmt;
	private readonly countRateLimitedStmt;
	private readonly selectRateLimited;
	private readonly pruneRateLimitedStmt;
	/** Read on every webhook request, so cached (dropped on any write, here or by another connection). */
	private readonly integrations: ReadCache<IntegrationRow>;

	constructor(private readonly db: Db) {
		this.integrations = new ReadCache(db);
		this.insertIntegrationStmt = db.prepare<[IntegrationColumns & { now: number }]>(
			`INSERT INTO threecx_integrations (account_id, instance_id, name, secret, hmac_secret, ip_allowlist, enabled,
         outbound_enabled, call_events_enabled, templates, business_name, strict_window, window_hours, destination_url,
         destination_format, line_number, webhook_id, created_at, updated_at)
       VALUES (@account_id, @instance_id, @name, @secret, @hmac_secret, @ip_allowlist, @enabled, @outbound_enabled,
         @call_events_enabled, @templates, @business_name, @strict_window, @window_hours, @destination_url,
         @destination_format, @line_number, @webhook_id, @now, @now)`,
		);
		this.updateIntegrationStmt = db.prepare<[IntegrationColumns & { id: number; now: number }]>(
			`UPDATE threecx_integrations SET instance_id = @instance_id, name = @name, secret = @secret,
         hmac_secret = @hmac_secret, ip_allowlist = @ip_allowlist, enabled = @enabled, outbound_enabled = @outbound_enabled,
         call_events_enabled = @call_events_enabled, templates = @templates, business_name = @business_name,
         strict_window = @strict_window, window_hours = @window_hours, destination_url = @destination_url,
         destination_format = @destination_format, line_number = @line_number, webhook_id = @webhook_id, updated_at = @now
       WHERE id = @id`,
		);
		this.selectIntegration = db.prepare<[number], IntegrationRow>('SELECT * FROM threecx_integrations WHERE id = ?');
		this.selectIntegrations = db.prepare<[number], IntegrationRow>(
			'SELECT * FROM threecx_integrations WHERE account_id = ? ORDER BY id',
		);
		this.selectAllIntegrations = db.prepare<[], IntegrationRow>('SELECT * FROM threecx_integrations ORDER BY id');
		this.deleteIntegrationStmt = db.prepare<[number]>('DELETE FROM threecx_integrations WHERE id = ?');
		this.insertEventStmt = db.prepare<[Omit<EventLogRow, 'id'>]>(
			`INSERT INTO threecx_events (integration_id, event_type, phone, external_message_id, conversation_id, agent_extension,
         queue, call_time, duration_seconds, status, action, reason, error_code, log_id, created_at)
       VALUES (@integration_id, @event_type, @phone, @external_message_id, @conversation_id, @agent_extension, @queue,
         @call_time, @duration_seconds, @status, @action, @reason, @error_code, @log_id, @created_at)`,
		);
		this.selectEvents = db.prepare<[number, number], EventLogRow>(
			'SELECT * FROM threecx_events WHERE integration_id = ? ORDER BY id DESC LIMIT ?',
		);
		this.selectLastSent = db
			.prepare<[number, string, string], number | null>(
				`SELECT max(created_at) FROM threecx_events
         WHERE integration_id = ? AND event_type = ? AND phone = ? AND action = 'sent'`,
			)
			.pluck();
		this.pruneEventsStmt = db.prepare<[number]>('DELETE FROM threecx_events WHERE created_at < ?');
		this.countRateLimitedStmt = db.prepare<[number, number]>(
			`INSERT INTO threecx_rate_limited (integration_id, minute, count) VALUES (?, ?, 1)
       ON CONFLICT (integration_id, minute) DO UPDATE SET count = count + 1`,
		);
		this.selectRateLimited = db.prepare<
			{ integrationId: number; hour: number; day: number },
			{ last_hour: number | null; last_day: number | null; last_minute: number | null }
		>(
			`SELECT SUM(CASE WHEN minute >= @hour THEN count ELSE 0 END) AS last_hour,
         SUM(CASE WHEN minute >= @day THEN count ELSE 0 END) AS last_day, MAX(minute) AS last_minute
       FROM threecx_rate_limited WHERE integration_id = @integrationId`,
		);
		this.pruneRateLimitedStmt = db.prepare<[number]>('DELETE FROM threecx_rate_limited WHERE minute < ?');
	}

	transaction<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}

	insertIntegration(columns: IntegrationColumns, now: number): number {
		const id = Number(this.insertIntegrationStmt.run({ ...columns, now }).lastInsertRowid);
		this.integrations.invalidate();
		return id;
	}

	updateIntegration(id: number, columns: IntegrationColumns, now: number): void {
		this.updateIntegrationStmt.run({ ...columns, id, now });
		this.integrations.invalidate();
	}

	findIntegration(id: number): IntegrationRow | undefined {
		return this.integrations.get(id, (key) => this.selectIntegration.get(key));
	}

	listIntegrations(accountId?: number): IntegrationRow[] {
		return accountId === undefined ? this.selectAllIntegrations.all() : this.selectIntegrations.all(accountId);
	}

	deleteIntegration(id: number): void {
		this.deleteIntegrationStmt.run(id);
		this.integrations.invalidate();
	}

	insertEvent(row: Omit<EventLogRow, 'id'>): number {
		return Number(this.insertEventStmt.run(row).lastInsertRowid);
	}

	/** One more request refused by the rate limit, counted in its minute. */
	countRateLimited(integrationId: number, at: number): void {
		this.countRateLimitedStmt.run(integrationId, Math.floor(at / 60_000));
	}

	/** Refused requests in the hour and the day before `now`, and the minute of the last one (kept ones only). */
	rateLimited(integrationId: number, now: number): { lastHour: number; lastDay: number; lastAt: number | null } {
		const minute = Math.floor(now / 60_000);
		const row = this.selectRateLimited.get({ integrationId, hour: minute - 59, day: minute - 24 * 60 + 1 });
		return {
			lastHour: row?.last_hour ?? 0,
			lastDay: row?.last_day ?? 0,
			lastAt: row?.last_minute === null || row?.last_minute === undefined ? null : row.last_minute * 60_000,
		};
	}

	recentEvents(integrationId: number, limit: number): EventLogRow[] {
		return this.selectEvents.all(integrationId, limit);
	}

	/** Drops event log entries older than `before` (retention; the cooldown looks back 15 minutes only). */
	/** The event log and the rate-limit counts older than `before`. */
	pruneEvents(before: number): number {
		this.pruneRateLimitedStmt.run(Math.floor(before / 60_000));
		return this.pruneEventsStmt.run(before).changes;
	}

	/** When a template of this type last went to this phone through this integration. */
	lastTemplateSent(integrationId: number, eventType: string, phone: string): number | undefined {
		return this.selectLastSent.get(integrationId, eventType, phone) ?? undefined;
	}
}
