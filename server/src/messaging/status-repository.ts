import type { Db } from '../db';
import type { MessageLogRow, MessageStatus } from './repository';

/** The part of a log entry a provider's status report reads. */
export type ReportedEntry = Pick<
	MessageLogRow,
	'id' | 'account_seq' | 'status' | 'phone' | 'message_purpose' | 'updated_at'
>;

/** SQL for providers' status reports on the message log: finding the entry, moving it, sends still in flight. */
export class StatusRepository {
	private readonly selectByProviderId;
	private readonly setStatusStmt;
	private readonly failLate;
	private readonly insertHistory;
	private readonly selectSendInFlight;

	constructor(db: Db) {
		// What a status report needs, not the whole row (its text among it): twice for every sent message.
		this.selectByProviderId = db.prepare<[string, string], ReportedEntry>(
			`SELECT id, account_seq, status, phone, message_purpose, updated_at FROM message_log
       WHERE provider_message_id = ? AND instance_id = ?`,
		);
		this.setStatusStmt = db.prepare<[MessageStatus, number, number]>(
			'UPDATE message_log SET status = ?, updated_at = ? WHERE id = ?',
		);
		this.failLate = db.prepare<[string, number, number]>(
			"UPDATE message_log SET status = 'failed', error_code = ?, updated_at = ? WHERE id = ?",
		);
		this.insertHistory = db.prepare<[number, string, string | null, number]>(
			'INSERT INTO message_status_history (log_id, status, detail, created_at) VALUES (?, ?, ?, ?)',
		);
		// Seeks message_log_sending: only the entries whose provider call is under way are read.
		this.selectSendInFlight = db
			.prepare<[string], number>(
				"SELECT 1 FROM message_log INDEXED BY message_log_sending WHERE status = 'sending' AND instance_id = ? LIMIT 1",
			)
			.pluck();
	}

	findByProviderMessageId(instanceId: string, providerMessageId: string): ReportedEntry | undefined {
		return this.selectByProviderId.get(providerMessageId, instanceId);
	}

	setStatus(id: number, status: MessageStatus, now: number, detail: string | null): void {
		this.setStatusStmt.run(status, now, id);
		this.insertHistory.run(id, status, detail, now);
	}

	/** The provider gave up on a message it had accepted: the entry fails with `errorCode`, `detail` in its history. */
	failAfterSend(id: number, errorCode: string, now: number, detail: string | null): void {
		this.failLate.run(errorCode, now, id);
		this.insertHistory.run(id, 'failed', detail, now);
	}

	/** Whether a send on this instance is with its provider (logged as `sending`, its outcome not yet committed). */
	sendInFlight(instanceId: string): boolean {
		return this.selectSendInFlight.get(instanceId) !== undefined;
	}
}
