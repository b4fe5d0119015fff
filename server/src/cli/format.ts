import type { Account, ApiKeyInfo } from '../accounts/service';
import type { Instance } from '../instances/service';
import type { Suppression } from '../messaging/suppressions';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const accountJson = (account: Account) => ({
  id: account.id,
  name: account.name,
  plan: account.plan.name,
  plan_active: account.planActive,
  time_zone: account.timeZone,
  default_country: account.defaultCountry,
  modules: { api_access: account.modules.apiAccess, threecx: account.modules.threecx },
  limits: { daily: account.limits.daily, monthly: account.limits.monthly, custom: account.limits.custom },
  velocity: {
    instance_per_minute: account.velocity.instancePerMinute,
    recipient_per_minute: account.velocity.recipientPerMinute,
  },
  webhooks: { limit: account.webhookLimit.limit, custom: account.webhookLimit.custom },
  created_at: iso(account.createdAt),
});

export const keyJson = (key: ApiKeyInfo) => ({
  id: key.id,
  account_id: key.accountId,
  name: key.name,
  prefix: key.prefix,
  created_at: iso(key.createdAt),
  last_used_at: iso(key.lastUsedAt),
  revoked_at: iso(key.revokedAt),
});

export const instanceJson = (instance: Instance) => ({
  id: instance.id,
  account_id: instance.accountId,
  name: instance.name,
  display_name: instance.displayName,
  provider: instance.provider,
  connection_state: instance.connectionState,
  paused: instance.paused,
  paused_reason: instance.pausedReason,
  paused_at: iso(instance.pausedAt),
  created_at: iso(instance.createdAt),
});

export const suppressionJson = (suppression: Suppression) => ({
  account_id: suppression.accountId,
  phone: suppression.phone,
  reason: suppression.reason,
  source: suppression.source,
  created_at: iso(suppression.createdAt),
});

export const deliveryJson = (delivery: {
  id: number;
  event_id: string;
  event_type?: string;
  webhook_id: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}) => ({
  id: delivery.id,
  event_id: delivery.event_id,
  event_type: delivery.event_type ?? null,
  webhook_id: delivery.webhook_id,
  status: delivery.status,
  attempts: delivery.attempts,
  next_attempt_at: delivery.status === 'pending' ? iso(delivery.next_attempt_at) : null,
  last_status_code: delivery.last_status_code,
  last_error: delivery.last_error,
  created_at: iso(delivery.created_at),
  delivered_at: iso(delivery.delivered_at),
});

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Plain aligned columns for people; scripts use --json. */
export function table(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i].length)));
  const render = (line: string[]) => line.map((text, i) => text.padEnd(widths[i])).join('  ').trimEnd();
  return `${[render(columns), ...cells.map(render)].join('\n')}\n`;
}

export function record(row: Row): string {
  const width = Math.max(...Object.keys(row).map((key) => key.length));
  return `${Object.entries(row)
    .map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`)
    .join('\n')}\n`;
}
