import type Database from 'better-sqlite3';
import type { Db } from '../db';

export interface InboundRow {
	id: number;
	account_id: number;
	instance_id: string;
	provider_message_id: string;
	from_phone: string;
	group_id: string | null;
	message_type: string;
	message_text: string | null;
	keyword_action: 'opt_out' | 'opt_in' | null;
	received_at: number;
	created_at: number;
}

/** A provider's status report held until the outcome of the send it reports on is committed. */
export interface HeldStatusRow {
	instance_id: string;
	provider_message_id: string;
	status: string;
	provider_status: string | null;
	reported_at: number | null;
	failure_reason: string | null;
	failure_detail: string | null;
	received_at: number;
}

/** The inbound log's filters (the dashboard's search): newest first, before `beforeId`. */
export interface InboundFilter {
	phone?: string;
	from?: number;
	to?: number;
	beforeId?: number;
}

type InboundParams = Record<string, string | number>;

/** `params` with the search's filters that are given (their names select the statement). */
function withFilters(params: InboundParams, filter: InboundFilter): InboundParams {
	if (filter.phone !== undefined) params.phone = filter.phone;
	if (filter.from !== undefined) params.from = filter.from;
	if (filter.to !== undefined) params.to = filter.to;
	return params;
}

/** SQL for what arrives from providers: the inbound log, conversation windows, keyword lists, provider event ids. */
export class InboundRepository {
	private readonly insertInboundStmt;
	private readonly setKeywordActionStmt;
	private readonly upsertWindow;
	private readonly selectWindow;
	private readonly selectKeywords;
	private readonly upsertKeywords;
	private readonly insertEventKey;
	private readonly pruneInbound;
	private readonly pruneWindows;
	private readonly pruneEventKeys;
	private readonly searchStatements = new Map<string, Database.Statement<[InboundParams], InboundRow>>();
	private readonly selectCursor;
	private readonly selectLastOptOut;
	private readonly insertHeld;
	private readonly selectHeld;
	private readonly deleteHeld;
	private readonly expireHeld;

	constructor(private readonly db: Db) {
		this.insertInboundStmt = db.prepare<[Omit<InboundRow, 'id' | 'keyword_action'>]>(
			`INSERT INTO inbound_messages (account_id, instance_id, provider_message_id, from_phone, group_id, message_type,
         message_text, received_at, created_at)
       VALUES (@account_id, @instance_id, @provider_message_id, @from_phone, @group_id, @message_type, @message_text,
         @received_at, @created_at)
       ON CONFLICT (instance_id, provider_message_id) DO NOTHING`,
		);
		this.setKeywordActionStmt = db.prepare<[string, number]>(
			'UPDATE inbound_messages SET keyword_action = ? WHERE id = ?',
		);
		this.upsertWindow = db.prepare<[string, string, number]>(
			`INSERT INTO conversation_windows (instance_id, phone, last_inbound_at) VALUES (?, ?, ?)
       ON CONFLICT (instance_id, phone) DO UPDATE SET last_inbound_at = max(last_inbound_at, excluded.last_inbound_at)`,
		);
		this.selectWindow = db
			.prepare<[string, string], number>(
				'SELECT last_inbound_at FROM conversation_windows WHERE instance_id = ? AND phone = ?',
			)
			.pluck();
		this.selectKeywords = db.prepare<[number], { opt_out: string | null; opt_in: string | null }>(
			'SELECT opt_out, opt_in FROM keyword_settings WHERE account_id = ?',
		);
		this.upsertKeywords = db.prepare<[number, string | null, string | null]>(
			`INSERT INTO keyword_settings (account_id, opt_out, opt_in) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET opt_out = excluded.opt_out, opt_in = excluded.opt_in`,
		);
		this.pruneInbound = db.prepare<[number]>('DELETE FROM inbound_messages WHERE created_at < ?');
		this.pruneWindows = db.prepare<[number]>('DELETE FROM conversation_windows WHERE last_inbound_at < ?');
		this.insertEventKey = db.prepare<[string, string, number]>(
			'INSERT OR IGNORE INTO provider_event_keys (instance_id, event_key, created_at) VALUES (?, ?, ?)',
		);
		this.pruneEventKeys = db.prepare<[number]>('DELETE FROM provider_event_keys WHERE created_at < ?');
		this.selectCursor = db.prepare<[number, number], { id: number; received_at: number }>(
			'SELECT id, received_at FROM inbound_messages WHERE account_id = ? AND id <= ? ORDER BY id DESC LIMIT 1',
		);
		this.selectLastOptOut = db.prepare<[number, string], InboundRow>(
			`SELECT * FROM inbound_messages WHERE account_id = ? AND from_phone = ? AND keyword_action = 'opt_out'
       ORDER BY id DESC LIMIT 1`,
		);
		// A provider's repeat of a held report is held once.
		this.insertHeld = db.prepare<[HeldStatusRow]>(
			`INSERT OR IGNORE INTO held_statuses (instance_id, provider_message_id, status, provider_status, reported_at,
         failure_reason, failure_detail, received_at)
       VALUES (@instance_id, @provider_message_id, @status, @provider_status, @reported_at, @failure_reason,
         @failure_detail, @received_at)`,
		);
		this.selectHeld = db.prepare<[string, string], HeldStatusRow>(
			`SELECT instance_id, provider_message_id, status, provider_status, reported_at, failure_reason, failure_detail,
         received_at
       FROM held_statuses WHERE instance_id = ? AND provider_message_id = ? ORDER BY id`,
		);
		this.deleteHeld = db.prepare<[string, string]>(
			'DELETE FROM held_statuses WHERE instance_id = ? AND provider_message_id = ?',
		);
		this.expireHeld = db.prepare<[number]>('DELETE FROM held_statuses WHERE received_at < ?');
	}

	transaction<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}

	/** Records a provider event id for an instance; false when it was recorded before (a provider's retry). */
	firstProviderEvent(instanceId: string, key: string, now: number): boolean {
		return this.insertEventKey.run(instanceId, key, now).changes === 1;
	}

	/**
	 * A page of the inbound log, newest first by (received_at, id): each filter given is a seek term, never a walk
	 * of the account's log. The SQL holds only the filters given (one statement per combination, prepared once,
	 * values bound); a phone seeks `inbound_messages_account_phone_received (account_id, from_phone, received_at)`,
	 * otherwise `inbound_messages_account_received (account_id, received_at)`. Dates and the page cursor are ranges
	 * on received_at, and the rowid that ends each index orders ties without a sort. `before=` (an id) is resolved to
	 * that message's (received_at, id); a gone id continues from the newest message below it.
	 */
	search(accountId: number, filter: InboundFilter, limit: number): InboundRow[] {
		const params: InboundParams = { accountId, limit };
		if (filter.beforeId !== undefined) {
			const cursor = this.selectCursor.get(accountId, filter.beforeId);
			if (!cursor) return [];
			params.cursorAt = cursor.received_at;
			params.cursorId = cursor.id === filter.beforeId ? cursor.id : cursor.id + 1;
		}
		return this.searchStatement(withFilters(params, filter)).all(params);
	}

	/** EXPLAIN QUERY PLAN of the search with these filters (their values do not matter). */
	searchPlan(filter: InboundFilter): string {
		const params = withFilters(
			filter.beforeId === undefined
				? { accountId: 0, limit: 51 }
				: { accountId: 0, limit: 51, cursorAt: 0, cursorId: 0 },
			filter,
		);
		const statement = this.searchStatement(params);
		return this.db
			.prepare<[InboundParams], { detail: string }>(`EXPLAIN QUERY PLAN ${statement.source}`)
			.all(params)
			.map((row) => row.detail)
			.join('; ');
	}

	/** The search of one combination of filters (the names of its bound parameters are its key), prepared on first use. */
	private searchStatement(params: InboundParams): Database.Statement<[InboundParams], InboundRow> {
		const key = Object.keys(params).sort().join(',');
		const cached = this.searchStatements.get(key);
		if (cached) return cached;
		const has = new Set(Object.keys(params));
		const index = has.has('phone') ? 'inbound_messages_account_phone_received' : 'inbound_messages_account_received';
		const seek = [
			'account_id = @accountId',
			has.has('phone') && 'from_phone = @phone',
			has.has('from') && 'received_at >= @from',
			has.has('to') && 'received_at < @to',
			has.has('cursorAt') && 'received_at <= @cursorAt AND (received_at < @cursorAt OR id < @cursorId)',
		]
			.filter(Boolean)
			.join(' AND ');
		// INDEXED BY: the plan does not depend on the planner's guesses (a missing index is an error, not a scan).
		const statement = this.db.prepare<[InboundParams], InboundRow>(
			`SELECT * FROM inbound_messages INDEXED BY ${index} WHERE ${seek} ORDER BY received_at DESC, id DESC LIMIT @limit`,
		);
		this.searchStatements.set(key, statement);
		return statement;
	}

	/** The latest message from this phone that was an opt-out keyword. */
	lastOptOut(accountId: number, phone: string): InboundRow | undefined {
		return this.selectLastOptOut.get(accountId, phone);
	}

	insertInbound(row: Omit<InboundRow, 'id' | 'keyword_action'>): number | undefined {
		const result = this.insertInboundStmt.run(row);
		return result.changes > 0 ? Number(result.lastInsertRowid) : undefined;
	}

	setKeywordAction(id: number, action: 'opt_out' | 'opt_in'): void {
		this.setKeywordActionStmt.run(action, id);
	}

	touchWindow(instanceId: string, phone: string, at: number): void {
		this.upsertWindow.run(instanceId, phone, at);
	}

	lastInboundAt(instanceId: string, phone: string): number | undefined {
		return this.selectWindow.get(instanceId, phone);
	}

	keywords(accountId: number): { optOut: string[] | null; optIn: string[] | null } {
		const row = this.selectKeywords.get(accountId);
		const parse = (text: string | null | undefined) => (text ? (JSON.parse(text) as string[]) : null);
		return { optOut: parse(row?.opt_out), optIn: parse(row?.opt_in) };
	}

	setKeywords(accountId: number, optOut: string[] | null, optIn: string[] | null): void {
		this.upsertKeywords.run(accountId, optOut && JSON.stringify(optOut), optIn && JSON.stringify(optIn));
	}

	/** Holds a status report (in the caller's transaction); held reports received before `expiredBefore` go. */
	holdStatus(row: HeldStatusRow, expiredBefore: number): void {
		this.expireHeld.run(expiredBefore);
		this.insertHeld.run(row);
	}

	/** The reports held for a message, in the order they came, taken out of the table (in the caller's transaction). */
	takeHeldStatuses(instanceId: string, providerMessageId: string): HeldStatusRow[] {
		const rows = this.selectHeld.all(instanceId, providerMessageId);
		if (rows.length > 0) this.deleteHeld.run(instanceId, providerMessageId);
		return rows;
	}

	/** Held reports received before `before`, which no send claimed. */
	expireHeldStatuses(before: number): number {
		return this.expireHeld.run(before).changes;
	}

	/** Inbound messages, conversation windows and provider event ids older than `before`. */
	prune(before: number): { inbound: number; windows: number; providerEventKeys: number } {
		return this.transaction(() => ({
			inbound: this.pruneInbound.run(before).changes,
			windows: this.pruneWindows.run(before).changes,
			providerEventKeys: this.pruneEventKeys.run(before).changes,
		}));
	}
}
