import type { Db } from '../db';
import type { MessageLogRow, MessageStatus } from './repository';

/** The message log's filters (the dashboard's search); every one optional; newest first, before `beforeLogId`. */
export interface LogFilter {
  status?: string;
  errorCode?: string;
  purpose?: string;
  phone?: string;
  from?: number;
  to?: number;
  beforeLogId?: number;
}

export interface OutcomeCount {
  status: MessageStatus;
  error_code: string | null;
  n: number;
}

/**
 * The operator's reads of the message log (the dashboard): a filtered page and sends per period by
 * outcome. Read-only, beside the send path's repository.
 */
export class MessageLogQueries {
  private readonly searchLog;
  private readonly countOutcomes;

  constructor(db: Db) {
    // An absent filter is NULL and matches everything: one statement serves every combination.
    this.searchLog = db.prepare<
      [{ accountId: number; status: string | null; errorCode: string | null; purpose: string | null; phone: string | null;
         from: number | null; to: number | null; before: number | null; limit: number }],
      MessageLogRow
    >(
      `SELECT * FROM message_log
       WHERE account_id = @accountId AND (@before IS NULL OR account_seq < @before)
         AND (@status IS NULL OR status = @status) AND (@errorCode IS NULL OR error_code = @errorCode)
         AND (@purpose IS NULL OR message_purpose = @purpose) AND (@phone IS NULL OR phone = @phone)
         AND (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at < @to)
       ORDER BY account_seq DESC LIMIT @limit`,
    );
    this.countOutcomes = db.prepare<[number, number, number], OutcomeCount>(
      `SELECT status, error_code, COUNT(*) AS n FROM message_log
       WHERE account_id = ? AND created_at >= ? AND created_at < ? GROUP BY status, error_code`,
    );
  }

  /** One page of an account's log, newest first, filtered (the unique account_seq index gives the order). */
  search(accountId: number, filter: LogFilter, limit: number): MessageLogRow[] {
    return this.searchLog.all({
      accountId,
      status: filter.status ?? null,
      errorCode: filter.errorCode ?? null,
      purpose: filter.purpose ?? null,
      phone: filter.phone ?? null,
      from: filter.from ?? null,
      to: filter.to ?? null,
      before: filter.beforeLogId ?? null,
      limit,
    });
  }

  /** Entries created in [from, to) by status and error code. */
  outcomes(accountId: number, from: number, to: number): OutcomeCount[] {
    return this.countOutcomes.all(accountId, from, to);
  }
}
