import type { Db } from '../db';

export type MessageStatus = 'blocked' | 'sending' | 'sent' | 'failed' | 'unknown' | 'delivered' | 'read';

/** The part of a log entry a provider's status report reads. */
export type ReportedEntry = Pick<MessageLogRow, 'id' | 'status' | 'phone'>;

export interface MessageLogRow {
	id: number;
	account_id: number;
	/** The account's own number for the entry: the API's log_id. */
	account_seq: number;
	api_key_id: number | null;
	source: string;
	instance_id: string | null;
	instance_ref: string | null;
	phone: string | null;
	message_purpose: string | null;
	message_type: string | null;
	message_text: string | null;
	content_hash: string | null;
	status: MessageStatus;
	error_code: string | null;
	http_status: number;
	risk_score: number | null;
	provider_message_id: string | null;
	idempotency_key: string | null;
	created_at: number;
	updated_at: number;
}

export type NewLogEntry = Omit<MessageLogRow, 'id' | 'account_seq' | 'updated_at'>;

/** A new log entry's row id (inside the gateway) and its number in the account's log (the API's log_id). */
export interface LogEntryIds {
	id: number;
	logId: number;
}

export interface StatusHistoryRow {
	status: string;
	detail: string | null;
	created_at: number;
}

export interface IdempotencyRow {
	request_hash: string;
	state: 'in_progress' | 'completed';
	response_status: number | null;
	response_body: string | null;
	created_at: number;
}

/** SQL for the messaging area's tables: message log, status history, quota counters, idempotency. */
export class MessagingRepository {
	private readonly insertLog;
	/** The last log_id given per account, in memory (seeded from the database on an account's first entry). */
	private readonly lastLogIds = new Map<number, number>();
	private readonly selectLastSeq;
	private readonly keepLastSeqs;
	private readonly selectLogBySeq;
	private readonly countRefusal;
	private readonly finishLog;
	private readonly insertHistory;
	private readonly selectHistory;
	private readonly selectUsage;
	private readonly addUsage;
	private readonly selectContentHistory;
	private readonly selectContentSeen;
	private readonly countViolations;
	private readonly selectIdempotency;
	private readonly claimIdempotency;
	private readonly completeIdempotency;
	private readonly releaseIdempotency;
	private readonly purgeIdempotency;
	private readonly pruneHistory;
	private readonly pruneLog;
	private readonly pruneRefusals;
	private readonly selectInterrupted;
	private readonly selectInProgress;
	private readonly selectLatestForKey;
	private readonly selectByProviderId;
	private readonly setStatusStmt;

	constructor(private readonly db: Db) {
		this.insertLog = db.prepare<[NewLogEntry & { account_seq: number; updated_at: number }]>(
			`INSERT INTO message_log (account_id, account_seq, api_key_id, source, instance_id, instance_ref, phone,
         message_purpose, message_type, message_text, content_hash, status, error_code, http_status, risk_score,
         provider_message_id, idempotency_key, created_at, updated_at)
       VALUES (@account_id, @account_seq, @api_key_id, @source, @instance_id, @instance_ref, @phone,
         @message_purpose, @message_type, @message_text, @content_hash, @status, @error_code, @http_status, @risk_score,
         @provider_message_id, @idempotency_key, @created_at, @updated_at)`,
		);
		// The highest number the account ever got: its newest entry, or what retention recorded before pruning it.
		this.selectLastSeq = db
			.prepare<[{ accountId: number }], number>(
				`SELECT max(coalesce((SELECT last_seq FROM message_log_sequences WHERE account_id = @accountId), 0),
                  coalesce((SELECT MAX(account_seq) FROM message_log WHERE account_id = @accountId), 0))`,
			)
			.pluck();
		this.keepLastSeqs = db.prepare(
			`INSERT INTO message_log_sequences (account_id, last_seq)
       SELECT id, (SELECT MAX(account_seq) FROM message_log WHERE account_id = accounts.id) AS top FROM accounts WHERE top IS NOT NULL
       ON CONFLICT (account_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
		);
		this.selectLogBySeq = db.prepare<[number, number], MessageLogRow>(
			'SELECT * FROM message_log WHERE account_id = ? AND account_seq = ?',
		);
		this.countRefusal = db.prepare<[{ accountId: number; apiKeyId: number; minute: number; errorCode: string }]>(
			`INSERT INTO refused_attempts (account_id, api_key_id, minute, error_code, count)
       VALUES (@accountId, @apiKeyId, @minute, @errorCode, 1)
       ON CONFLICT (account_id, api_key_id, minute, error_code) DO UPDATE SET count = count + 1`,
		);
		this.finishLog = db.prepare<[MessageStatus, string | null, number, string | null, number, number]>(
			`UPDATE message_log SET status = ?, error_code = ?, http_status = ?, provider_message_id = ?, updated_at = ?
       WHERE id = ?`,
		);
		this.insertHistory = db.prepare<[number, string, string | null, number]>(
			'INSERT INTO message_status_history (log_id, status, detail, created_at) VALUES (?, ?, ?, ?)',
		);
		this.selectHistory = db.prepare<[number], StatusHistoryRow>(
			'SELECT status, detail, created_at FROM message_status_history WHERE log_id = ? ORDER BY id',
		);
		this.selectUsage = db.prepare<[number, string], { used: number }>(
			'SELECT used FROM usage_counters WHERE account_id = ? AND period = ?',
		);
		this.addUsage = db.prepare<[{ accountId: number; period: string; delta: number }]>(
			`INSERT INTO usage_counters (account_id, period, used) VALUES (@accountId, @period, max(@delta, 0))
       ON CONFLICT (account_id, period) DO UPDATE SET used = max(used + @delta, 0)`,
		);
		const counted = "status IN ('sending', 'sent', 'delivered', 'read', 'unknown')";
		this.selectContentSeen = db
			.prepare<[number, string, number], number>(
				`SELECT 1 FROM message_log WHERE account_id = ? AND content_hash = ? AND created_at >= ? AND ${counted} LIMIT 1`,
			)
			.pluck();
		this.selectContentHistory = db.prepare<
			[{ accountId: number; hash: string; phone: string; bulkSince: number; repeatSince: number }],
			{ others: number; repeats: number | null }
		>(
			`SELECT COUNT(DISTINCT CASE WHEN phone <> @phone AND created_at >= @bulkSince THEN phone END) AS others,
              SUM(phone = @phone AND created_at >= @repeatSince) AS repeats
       FROM message_log
       WHERE account_id = @accountId AND content_hash = @hash AND created_at >= min(@bulkSince, @repeatSince)
         AND ${counted}`,
		);
		this.countViolations = db.prepare<[string, number], { n: number }>(
			`SELECT COUNT(*) AS n FROM message_log
       WHERE instance_id = ? AND error_code = 'policy_violation' AND created_at >= ?`,
		);
		this.selectIdempotency = db.prepare<[number, string], IdempotencyRow>(
			`SELECT request_hash, state, response_status, response_body, created_at FROM idempotency_keys
       WHERE account_id = ? AND key = ?`,
		);
		// A record older than the retention window is replaced as if it were not there.
		this.claimIdempotency = db.prepare<
			[{ accountId: number; key: string; requestHash: string; now: number; expiredBefore: number }]
		>(
			`INSERT INTO idempotency_keys (account_id, key, request_hash, state, created_at)
       VALUES (@accountId, @key, @requestHash, 'in_progress', @now)
       ON CONFLICT (account_id, key) DO UPDATE SET request_hash = excluded.request_hash, state = 'in_progress',
         response_status = NULL, response_body = NULL, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < @expiredBefore`,
		);
		this.completeIdempotency = db.prepare<[number, string, number, string]>(
			`UPDATE idempotency_keys SET state = 'completed', response_status = ?, response_body = ?
       WHERE account_id = ? AND key = ?`,
		);
		this.releaseIdempotency = db.prepare<[number, string]>(
			"DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND state = 'in_progress'",
		);
		this.purgeIdempotency = db.prepare<[number]>('DELETE FROM idempotency_keys WHERE created_at < ?');
		// 'sending' rows are left for crash recovery to settle, whatever their age.
		this.pruneHistory = db.prepare<[number]>(
			"DELETE FROM message_status_history WHERE log_id IN (SELECT id FROM message_log WHERE created_at < ? AND status <> 'sending')",
		);
		this.pruneLog = db.prepare<[number]>("DELETE FROM message_log WHERE created_at < ? AND status <> 'sending'");
		this.pruneRefusals = db.prepare<[number]>('DELETE FROM refused_attempts WHERE minute < ?');
		this.selectInterrupted = db.prepare<[], MessageLogRow>("SELECT * FROM message_log WHERE status = 'sending'");
		this.selectInProgress = db.prepare<[], { account_id: number; key: string }>(
			"SELECT account_id, key FROM idempotency_keys WHERE state = 'in_progress'",
		);
		this.selectLatestForKey = db.prepare<[number, string], MessageLogRow>(
			'SELECT * FROM message_log WHERE account_id = ? AND idempotency_key = ? ORDER BY id DESC LIMIT 1',
		);
		// What a status report needs, not the whole row (its text among it): twice for every sent message.
		this.selectByProviderId = db.prepare<[string, string], ReportedEntry>(
			'SELECT id, status, phone FROM message_log WHERE provider_message_id = ? AND instance_id = ?',
		);
		this.setStatusStmt = db.prepare<[MessageStatus, number, number]>(
			'UPDATE message_log SET status = ?, updated_at = ? WHERE id = ?',
		);
	}

	transaction<T>(fn: () => T): T {
		return this.db.transaction(fn).immediate();
	}

	/**
	 * Writes an entry with the account's next log_id. Numbers are handed out in memory: unique and rising
	 * because every number given is committed with its entry (one process writes the log: the data-folder
	 * lock), a rolled-back one is only skipped, and a restart goes on after the highest committed one.
	 */
	insertLogEntry(entry: NewLogEntry): LogEntryIds {
		const logId =
			(this.lastLogIds.get(entry.account_id) ?? this.selectLastSeq.get({ accountId: entry.account_id }) ?? 0) + 1;
		this.lastLogIds.set(entry.account_id, logId);
		const id = Number(
			this.insertLog.run({ ...entry, account_seq: logId, updated_at: entry.created_at }).lastInsertRowid,
		);
		// 'sending' is a moment, not a state worth a history row; the outcome that follows is recorded.
		if (entry.status !== 'sending') this.insertHistory.run(id, entry.status, entry.error_code, entry.created_at);
		return { id, logId };
	}

	/** A refusal beyond the key's budget: counted per key, minute and code instead of stored. */
	countRefusedAttempt(accountId: number, apiKeyId: number | null, at: number, errorCode: string): void {
		this.countRefusal.run({ accountId, apiKeyId: apiKeyId ?? 0, minute: Math.floor(at / 60_000), errorCode });
	}

	/** An entry by its number in the account's log (the API's log_id). */
	findByLogId(accountId: number, logId: number): MessageLogRow | undefined {
		return this.selectLogBySeq.get(accountId, logId);
	}

	finishLogEntry(
		id: number,
		change: {
			status: MessageStatus;
			errorCode: string | null;
			httpStatus: number;
			providerMessageId: string | null;
			detail?: string;
		},
		now: number,
	): void {
		this.finishLog.run(change.status, change.errorCode, change.httpStatus, change.providerMessageId, now, id);
		this.insertHistory.run(id, change.status, change.detail ?? change.errorCode, now);
	}

	statusHistory(id: number): StatusHistoryRow[] {
		return this.selectHistory.all(id);
	}

	findByProviderMessageId(instanceId: string, providerMessageId: string): ReportedEntry | undefined {
		return this.selectByProviderId.get(providerMessageId, instanceId);
	}

	setStatus(id: number, status: MessageStatus, now: number, detail: string | null): void {
		this.setStatusStmt.run(status, now, id);
		this.insertHistory.run(id, status, detail, now);
	}

	interruptedSends(): MessageLogRow[] {
		return this.selectInterrupted.all();
	}

	usage(accountId: number, period: string): number {
		return this.selectUsage.get(accountId, period)?.used ?? 0;
	}

	addToUsage(accountId: number, periods: string[], delta: number): void {
		for (const period of periods) this.addUsage.run({ accountId, period, delta });
	}

	/** Other recipients sent this content since `bulkSince`, and sends of it to `phone` since `repeatSince`. */
	contentHistory(query: { accountId: number; hash: string; phone: string; bulkSince: number; repeatSince: number }) {
		// Most transactional texts are unique: one index probe settles those without aggregating.
		const since = Math.min(query.bulkSince, query.repeatSince);
		if (this.selectContentSeen.get(query.accountId, query.hash, since) === undefined)
			return { otherRecipients: 0, repeats: 0 };
		const row = this.selectContentHistory.get(query);
		return { otherRecipients: row?.others ?? 0, repeats: row?.repeats ?? 0 };
	}

	policyViolationsSince(instanceId: string, since: number): number {
		return this.countViolations.get(instanceId, since)?.n ?? 0;
	}

	findIdempotency(accountId: number, key: string): IdempotencyRow | undefined {
		return this.selectIdempotency.get(accountId, key);
	}

	/** Claims the key for a new request; false when a live record holds it. */
	claimIdempotencyKey(
		accountId: number,
		key: string,
		requestHash: string,
		now: number,
		expiredBefore: number,
	): boolean {
		return this.claimIdempotency.run({ accountId, key, requestHash, now, expiredBefore }).changes > 0;
	}

	completeIdempotencyKey(accountId: number, key: string, status: number, body: string): void {
		this.completeIdempotency.run(status, body, accountId, key);
	}

	releaseIdempotencyKey(accountId: number, key: string): void {
		this.releaseIdempotency.run(accountId, key);
	}

	/** At start-up no request is in flight: a key still marked in progress belongs to a request that died. */
	abandonedIdempotencyKeys(): { account_id: number; key: string }[] {
		return this.selectInProgress.all();
	}

	latestLogEntryForKey(accountId: number, key: string): MessageLogRow | undefined {
		return this.selectLatestForKey.get(accountId, key);
	}

	/** Message log entries (and their history) older than `before`; returns how many entries went. */
	pruneLogEntries(before: number): number {
		return this.transaction(() => {
			// The numbers about to go stay taken: a restart after this goes on after them.
			this.keepLastSeqs.run();
			this.pruneHistory.run(before);
			this.pruneRefusals.run(Math.floor(before / 60_000));
			return this.pruneLog.run(before).changes;
		});
	}

	purgeIdempotencyKeys(before: number): number {
		return this.purgeIdempotency.run(before).changes;
	}
}
