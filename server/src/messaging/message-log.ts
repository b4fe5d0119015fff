import type { AccountUsage } from '../accounts/presenters';
import type { Account } from '../accounts/service';
import { DateTime } from 'luxon';
import { periodKeys } from '../accounts/time';
import type { Clock } from '../clock';
import type { StatusApplied } from '../events/status-reports';
import type { StatusFailure } from '../events/normalized';
import type { ErrorCode } from '../http/errors';
import type { UsageCounters } from './limits';
import type { LogFilter, LogPage, MessageLogQueries, OutcomeCount } from './log-queries';
import type { MessageLogRow, MessagingRepository, StatusHistoryRow } from './repository';
import type { StatusRepository } from './status-repository';

/** One local day of an account's sends by outcome: the dashboard's chart. */
export interface DayOutcomes {
	day: string;
	counts: OutcomeCount[];
}

/**
 * How far a sent message has come; a provider report only ever moves it forward. `failed` (the provider
 * could not deliver what it had accepted) ends a sent or delivered message and nothing moves it after.
 */
const STATUS_RANK = { sending: 0, sent: 1, delivered: 2, read: 3 } as const;
type RankedStatus = keyof typeof STATUS_RANK;
const isRanked = (status: string): status is RankedStatus => Object.hasOwn(STATUS_RANK, status);
const NOT_NEWS: StatusApplied = { outcome: 'not_news' };

/** A message the provider accepted and later gave up on is logged with the code a refusal at send time gets. */
const LATE_FAILURE_CODE: ErrorCode = 'gateway_send_failed';

/** Reading the message log, and moving a sent message's status on the provider's reports. */
export class MessageLog {
	constructor(
		private readonly repo: MessagingRepository,
		private readonly usageCounters: UsageCounters,
		private readonly clock: Clock,
		private readonly queries: MessageLogQueries,
		private readonly statuses: StatusRepository,
	) {}

	/** One message by its number in this account's log (the API's log_id), with its status history. */
	find(accountId: number, logId: number): { entry: MessageLogRow; history: StatusHistoryRow[] } | undefined {
		const entry = this.repo.findByLogId(accountId, logId);
		return entry ? { entry, history: this.repo.statusHistory(entry.id) } : undefined;
	}

	/** A page of the account's log, newest first (one more than `limit` tells the caller there is another page). */
	search(accountId: number, filter: LogFilter, limit: number): MessageLogRow[] {
		return this.queries.search(accountId, filter, limit);
	}

	/** As `search`, and where a search by status, error code or purpose stopped when it examined its most entries. */
	searchPage(accountId: number, filter: LogFilter, limit: number): LogPage {
		return this.queries.searchPage(accountId, filter, limit);
	}

	/** The last `days` local days (today included) of the account's log by status and error code, oldest first. */
	outcomesByDay(account: Account, days: number): DayOutcomes[] {
		const today = DateTime.fromMillis(this.clock.now(), { zone: account.timeZone }).startOf('day');
		return Array.from({ length: days }, (_, index) => {
			const start = today.minus({ days: days - 1 - index });
			const counts = this.queries.outcomes(account.id, start.toMillis(), start.plus({ days: 1 }).toMillis());
			return { day: start.toFormat('yyyy-LL-dd'), counts };
		});
	}

	/**
	 * Moves a sent message's status forward on a provider report (delivered, read, failed) in the caller's
	 * transaction. A status's time is the provider's, but never before (nor at) the time of the status it
	 * follows: Meta's times are whole seconds, so a `delivered` can carry a time before the outcome's
	 * milliseconds and a `read` the same second as its `delivered`; such a time becomes 1 ms after the last.
	 * `failed` sets the entry's error code to what a refusal at send time gets, the provider's words in its
	 * history. An unknown id says whether a send of the instance is still with its provider (the report may
	 * have beaten that send's outcome).
	 */
	applyProviderStatus(
		instanceId: string,
		providerMessageId: string,
		status: string,
		at: number,
		failure?: StatusFailure,
	): StatusApplied {
		const entry = this.statuses.findByProviderMessageId(instanceId, providerMessageId);
		if (!entry) return { outcome: 'unknown', sendInFlight: this.statuses.sendInFlight(instanceId) };
		if (!isRanked(entry.status)) return NOT_NEWS;
		if (status === 'failed') {
			// WhatsApp gave up on a message it had accepted: final, and only before it was read.
			if (entry.status !== 'sent' && entry.status !== 'delivered') return NOT_NEWS;
		} else if (!isRanked(status) || STATUS_RANK[status] <= STATUS_RANK[entry.status]) {
			return NOT_NEWS;
		}
		const appliedAt = Math.max(at, entry.updated_at + 1);
		if (status === 'failed')
			this.statuses.failAfterSend(entry.id, LATE_FAILURE_CODE, appliedAt, failure?.detail ?? null);
		else this.statuses.setStatus(entry.id, status, appliedAt, null);
		return {
			outcome: 'applied',
			at: appliedAt,
			entry: { phone: entry.phone, logId: entry.account_seq, purpose: entry.message_purpose },
		};
	}

	/** Accepted sends today and this month, in the account's time zone. */
	usage(account: Account): AccountUsage {
		const periods = periodKeys(this.clock.now(), account.timeZone);
		return {
			day: periods.day,
			month: periods.month,
			today: this.usageCounters.get(account.id, `d:${periods.day}`),
			thisMonth: this.usageCounters.get(account.id, `m:${periods.month}`),
		};
	}
}
