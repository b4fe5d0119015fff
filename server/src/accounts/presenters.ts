import { iso } from '../common/iso';
import type { Account, ApiKeyInfo } from './service';

/** An account as the API and the CLI show it. */
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

/** An API key's description (never the key itself, which exists only at creation). */
export const keyJson = (key: ApiKeyInfo) => ({
	id: key.id,
	account_id: key.accountId,
	name: key.name,
	prefix: key.prefix,
	created_at: iso(key.createdAt),
	last_used_at: iso(key.lastUsedAt),
	revoked_at: iso(key.revokedAt),
});

/** Today's and this month's accepted sends, in the account's time zone. */
export interface AccountUsage {
	day: string;
	month: string;
	today: number;
	thisMonth: number;
}

/** `GET /api/me`: the caller's account, plan, limits and usage (the credential test reads it). */
export const meJson = (account: Account, key: ApiKeyInfo, usage: AccountUsage) => ({
	success: true,
	account: {
		id: account.id,
		name: account.name,
		time_zone: account.timeZone,
		default_country: account.defaultCountry,
	},
	plan: { name: account.plan.name, label: account.plan.label, active: account.planActive },
	modules: { api_access: account.modules.apiAccess, threecx: account.modules.threecx },
	limits: {
		daily: account.limits.daily,
		monthly: account.limits.monthly,
		custom: account.limits.custom,
		instance_rate_per_minute: account.velocity.instancePerMinute,
		recipient_rate_per_minute: account.velocity.recipientPerMinute,
	},
	usage: { day: usage.day, today: usage.today, month: usage.month, this_month: usage.thisMonth },
	api_key: { id: key.id, name: key.name, prefix: key.prefix },
});
