import type Database from 'better-sqlite3';
import type { Db } from '../db';
import type { MessageLogRow, MessageStatus } from './repository';

/** The message log's filters (the dashboard's search); every one optional; newest first, after entry `beforeLogId`. */
export interface LogFilter {
	status?: string;
	errorCode?: string;
	purpose?: string;
	phone?: string;
	from?: number;
	to?: number;
	beforeLogId?: number;
}

/** A page of the log: up to `limit` entries, and where a search stopped when it examined its most entries first. */
export interface LogPage {
	rows: MessageLogRow[];
	/** Set when a status, error code or purpose filter examined its most entries: how many, and the log number of the last. */
	stopped?: { examined: number; after: number };
}

export interface OutcomeCount {
	status: MessageStatus;
	error_code: string | null;
	n: number;
}

/** How many entries a search by status, error code or purpose examines for one page before it stops. */
export const EXAMINE_LIMIT = 10_000;

type Params = Record<string, string | number>;

/** A search's bound parameters: only the filters given (their names select the statement). */
function paramsOf(
	accountId: number,
	filter: LogFilter,
	limit: number,
	cursor?: { cursorAt: number; cursorId: number },
): Params {
	const params: Params = { accountId, limit, ...cursor };
	const given: [string, string | number | undefined][] = [
		['phone', filter.phone],
		['from', filter.from],
		['to', filter.to],
		['status', filter.status],
		['errorCode', filter.errorCode],
		['purpose', filter.purpose],
	];
	for (const [name, value] of given) if (value !== undefined) params[name] = value;
	return params;
}

interface SearchStatements {
	search: Database.Statement<[Params], MessageLogRow>;
	/** The id of the `examineLimit`-th entry in the window (undefined when the window is smaller): only with residual filters. */
	boundary?: Database.Statement<[Params], number>;
}

/**
 * The operator's reads of the message log (the dashboard): a filtered page and sends per period by
 * outcome. Read-only, beside the send path's repository.
 *
 * A search pages newest first by (created_at, id) and each page is a seek, never a walk of the account's log:
 * - the SQL holds only the filters given (one statement per combination, prepared once and cached by its key;
 *   values are always bound, never written into the SQL);
 * - a phone filter seeks `message_log_account_phone_time (account_id, phone, created_at)`, otherwise
 *   `message_log_account_time (account_id, created_at)`; dates and the page cursor are range terms on
 *   created_at of that index, and SQLite's implicit rowid at each index's end gives the tie-break order, so
 *   neither sorts. (Within an account id and account_seq grow together, so ties keep the log's numbering.)
 * - "older" (`before=` a log number) is resolved to that entry's (created_at, id) by the unique
 *   `message_log_account_seq` index, and the page continues below it.
 * - status, error code and purpose are few values each and combine freely, so indexing every combination would
 *   cost more on every send than it saves; they filter the index's window instead, and one page examines at most
 *   `examineLimit` entries (a bounded, index-ordered read). When it stops early the page says so and offers to
 *   search on below the last entry examined.
 */
export class MessageLogQueries {
	private readonly statements = new Map<string, SearchStatements>();
	private readonly selectCursor;
	private readonly countOutcomes;
	private readonly sumRefusalsByKey;

	constructor(
		private readonly db: Db,
		private readonly examineLimit = EXAMINE_LIMIT,
	) {
		this.selectCursor = db.prepare<[number, number], { account_seq: number; created_at: number; id: number }>(
			`SELECT account_seq, created_at, id FROM message_log
       WHERE account_id = ? AND account_seq <= ? ORDER BY account_seq DESC LIMIT 1`,
		);
		this.countOutcomes = db.prepare<[number, number, number], OutcomeCount>(
			`SELECT status, error_code, COUNT(*) AS n FROM message_log
       WHERE account_id = ? AND created_at >= ? AND created_at < ? GROUP BY status, error_code`,
		);
		this.sumRefusalsByKey = db.prepare<[], { api_key_id: number; count: number; last_minute: number }>(
			'SELECT api_key_id, SUM(count) AS count, MAX(minute) AS last_minute FROM refused_attempts GROUP BY api_key_id',
		);
	}

	/** The refusals counted instead of logged (refused_attempts), per API key (0: none), over what retention kept. */
	refusedAttemptsByKey(): { api_key_id: number; count: number; last_minute: number }[] {
		return this.sumRefusalsByKey.all();
	}

	/** One page of an account's log, newest first, filtered: `limit` entries at most. */
	search(accountId: number, filter: LogFilter, limit: number): MessageLogRow[] {
		return this.searchPage(accountId, filter, limit).rows;
	}

	/** One page of an account's log, newest first, filtered, and where the search stopped if it examined its most entries. */
	searchPage(accountId: number, filter: LogFilter, limit: number): LogPage {
		let cursor: { cursorAt: number; cursorId: number } | undefined;
		if (filter.beforeLogId !== undefined) {
			// The entry the page continues below; when that number is gone, the newest entry under it, included.
			const found = this.selectCursor.get(accountId, filter.beforeLogId);
			if (!found) return { rows: [] };
			cursor = {
				cursorAt: found.created_at,
				cursorId: found.account_seq === filter.beforeLogId ? found.id : found.id + 1,
			};
		}
		const params = paramsOf(accountId, filter, limit, cursor);
		const statements = this.statementsFor(params);
		if (!statements.boundary) return { rows: statements.search.all(params) };
		const rows = statements.search.all({ ...params, examine: this.examineLimit });
		if (rows.length >= limit) return { rows };
		const last = statements.boundary.get({ ...params, offset: this.examineLimit - 1 });
		return last === undefined ? { rows } : { rows, stopped: { examined: this.examineLimit, after: last } };
	}

	/** EXPLAIN QUERY PLAN of the statements a search with these filters runs (the filters' values do not matter). */
	plan(filter: LogFilter): string[] {
		const cursor = filter.beforeLogId === undefined ? undefined : { cursorAt: 0, cursorId: 0 };
		const params = paramsOf(0, filter, 51, cursor);
		const { search, boundary } = this.statementsFor(params);
		const bound = { ...params, examine: 1, offset: 0 };
		return [search, boundary]
			.filter((statement) => statement !== undefined)
			.map((statement) =>
				this.db
					.prepare<[Params], { detail: string }>(`EXPLAIN QUERY PLAN ${statement.source}`)
					.all(bound)
					.map((row) => row.detail)
					.join('; '),
			);
	}

	/** The statements of one combination of filters (the names of the bound parameters are its key), prepared on first use. */
	private statementsFor(params: Params): SearchStatements {
		const key = Object.keys(params).sort().join(',');
		const cached = this.statements.get(key);
		if (cached) return cached;
		const has = new Set(Object.keys(params));
		const index = has.has('phone') ? 'message_log_account_phone_time' : 'message_log_account_time';
		const seek = [
			'account_id = @accountId',
			has.has('phone') && 'phone = @phone',
			has.has('from') && 'created_at >= @from',
			has.has('to') && 'created_at < @to',
			has.has('cursorAt') && 'created_at <= @cursorAt AND (created_at < @cursorAt OR id < @cursorId)',
		]
			.filter(Boolean)
			.join(' AND ');
		const residual = [
			has.has('status') && 'status = @status',
			has.has('errorCode') && 'error_code = @errorCode',
			has.has('purpose') && 'message_purpose = @purpose',
		]
			.filter(Boolean)
			.join(' AND ');
		// INDEXED BY: the plan does not depend on the planner's guesses (a missing index is an error, not a scan).
		const window = `FROM message_log INDEXED BY ${index} WHERE ${seek} ORDER BY created_at DESC, id DESC`;
		const statements: SearchStatements =
			residual === ''
				? { search: this.db.prepare<[Params], MessageLogRow>(`SELECT * ${window} LIMIT @limit`) }
				: {
						search: this.db.prepare<[Params], MessageLogRow>(
							`SELECT * FROM (SELECT * ${window} LIMIT @examine) WHERE ${residual} ORDER BY created_at DESC, id DESC LIMIT @limit`,
						),
						boundary: this.db
							.prepare<[Params], number>(
								`SELECT account_seq FROM message_log WHERE id = (SELECT id ${window} LIMIT 1 OFFSET @offset)`,
							)
							.pluck(),
					};
		this.statements.set(key, statements);
		return statements;
	}

	/** Entries created in [from, to) by status and error code. */
	outcomes(accountId: number, from: number, to: number): OutcomeCount[] {
		return this.countOutcomes.all(accountId, from, to);
	}
}
