import { iso } from '../common/iso';
import type { MessageLogRow, StatusHistoryRow } from './repository';

/** One message of the log with its history, as `GET /api/messages/{log_id}` shows it. */
export const messageJson = (entry: MessageLogRow, history: StatusHistoryRow[]) => ({
	log_id: entry.account_seq,
	status: entry.status,
	error: entry.error_code,
	http_status: entry.http_status,
	instance_id: entry.instance_id,
	phone: entry.phone,
	message_purpose: entry.message_purpose,
	message_type: entry.message_type,
	message_id: entry.provider_message_id,
	risk_score: entry.risk_score,
	source: entry.source,
	created_at: iso(entry.created_at),
	updated_at: iso(entry.updated_at),
	// A provider's own error text stays in the operator's log; callers see the status and code.
	history: history.map((row) => ({
		status: row.status,
		detail: row.status === 'failed' ? null : row.detail,
		at: iso(row.created_at),
	})),
});
