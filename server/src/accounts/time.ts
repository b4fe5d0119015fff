import { DateTime } from 'luxon';

export function isValidTimeZone(zone: string): boolean {
	return DateTime.now().setZone(zone).isValid;
}

export interface PeriodKeys {
	day: string;
	month: string;
	/** Milliseconds until the account's local day, and month, end: the Retry-After of a quota refusal. */
	msUntilDayEnd: number;
	msUntilMonthEnd: number;
}

interface LocalDay {
	start: number;
	end: number;
	monthEnd: number;
	day: string;
	month: string;
}

/** The current local day per time zone: computing it with luxon on every send is the slow part. */
const currentDay = new Map<string, LocalDay>();

function localDay(nowMs: number, zone: string): LocalDay {
	const cached = currentDay.get(zone);
	if (cached && nowMs >= cached.start && nowMs < cached.end) return cached;
	const local = DateTime.fromMillis(nowMs, { zone });
	const start = local.startOf('day');
	const computed = {
		start: start.toMillis(),
		end: start.plus({ days: 1 }).toMillis(),
		monthEnd: local.startOf('month').plus({ months: 1 }).toMillis(),
		day: local.toFormat('yyyy-LL-dd'),
		month: local.toFormat('yyyy-LL'),
	};
	currentDay.set(zone, computed);
	return computed;
}

/** Calendar day and month of an instant in the account's time zone (quotas reset at local midnight). */
export function periodKeys(nowMs: number, zone: string): PeriodKeys {
	const day = localDay(nowMs, zone);
	return {
		day: day.day,
		month: day.month,
		msUntilDayEnd: day.end - nowMs,
		msUntilMonthEnd: day.monthEnd - nowMs,
	};
}
