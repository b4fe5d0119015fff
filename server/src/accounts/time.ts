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

/** Calendar day and month of an instant in the account's time zone (quotas reset at local midnight). */
export function periodKeys(nowMs: number, zone: string): PeriodKeys {
  const local = DateTime.fromMillis(nowMs, { zone });
  return {
    day: local.toFormat('yyyy-LL-dd'),
    month: local.toFormat('yyyy-LL'),
    msUntilDayEnd: local.startOf('day').plus({ days: 1 }).toMillis() - nowMs,
    msUntilMonthEnd: local.startOf('month').plus({ months: 1 }).toMillis() - nowMs,
  };
}
