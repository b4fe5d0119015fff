import { isSupportedCountry } from 'libphonenumber-js';
import type { Clock } from '../clock';
import { ApiError } from '../http/errors';
import { InputError } from '../input-error';
import { displayPrefix, generateApiKey, hashApiKey } from './keys';
import { isPlanName, PLANS, type Plan, type PlanName } from './plans';
import { AccountRepository, type AccountRow, type AccountUpdate, type ApiKeyRow } from './repository';
import { isValidTimeZone } from './time';
import type { Db } from '../db';

export interface Account {
	id: number;
	name: string;
	plan: Plan;
	planActive: boolean;
	timeZone: string;
	defaultCountry: string | null;
	modules: { apiAccess: boolean; threecx: boolean };
	limits: { daily: number; monthly: number; custom: boolean };
	velocity: { instancePerMinute: number; recipientPerMinute: number };
	/** Customer webhook subscriptions allowed: the plan's number or a reviewed override. */
	webhookLimit: { limit: number; custom: boolean };
	createdAt: number;
}

export interface ApiKeyInfo {
	id: number;
	accountId: number;
	name: string;
	prefix: string;
	createdAt: number;
	lastUsedAt: number | null;
	revokedAt: number | null;
}

export interface AccountInput {
	name?: string;
	plan?: string;
	planActive?: boolean;
	dailyLimit?: number | null;
	monthlyLimit?: number | null;
	timeZone?: string;
	defaultCountry?: string | null;
	apiAccess?: boolean | null;
	threecx?: boolean | null;
	instanceRatePerMinute?: number | null;
	recipientRatePerMinute?: number | null;
	webhookLimit?: number | null;
}

/** last_used_at is written at most this often per key, so a busy key does not write on every request. */
const KEY_TOUCH_INTERVAL_MS = 60_000;

function toAccount(row: AccountRow): Account {
	const plan = PLANS[row.plan];
	const override = (value: 0 | 1 | null, planDefault: boolean) => (value === null ? planDefault : value === 1);
	return {
		id: row.id,
		name: row.name,
		plan,
		planActive: row.plan_active === 1,
		timeZone: row.time_zone,
		defaultCountry: row.default_country,
		modules: {
			apiAccess: override(row.api_access_enabled, plan.modules.apiAccess),
			threecx: override(row.threecx_enabled, plan.modules.threecx),
		},
		limits: {
			daily: row.daily_limit ?? plan.dailyLimit,
			monthly: row.monthly_limit ?? plan.monthlyLimit,
			custom: row.daily_limit !== null || row.monthly_limit !== null,
		},
		velocity: {
			instancePerMinute: row.instance_rate_per_minute ?? plan.instanceRatePerMinute,
			recipientPerMinute: row.recipient_rate_per_minute ?? plan.recipientRatePerMinute,
		},
		webhookLimit: { limit: row.webhook_limit ?? plan.webhookLimit, custom: row.webhook_limit !== null },
		createdAt: row.created_at,
	};
}

function toKeyInfo(row: ApiKeyRow): ApiKeyInfo {
	return {
		id: row.id,
		accountId: row.account_id,
		name: row.name,
		prefix: row.key_prefix,
		createdAt: row.created_at,
		lastUsedAt: row.last_used_at,
		revokedAt: row.revoked_at,
	};
}

function checkLimit(name: string, value: number | null | undefined, min: number): void {
	if (value === undefined || value === null) return;
	// Safe integers only: a larger one would be stored by SQLite as an inexact REAL.
	if (!Number.isSafeInteger(value) || value < min) {
		throw new InputError(`${name} must be a whole number from ${min} to ${Number.MAX_SAFE_INTEGER}`);
	}
}

/** Turns an operator's change into column values, refusing anything out of range with a readable reason. */
function toColumns(input: AccountInput): AccountUpdate {
	const columns: AccountUpdate = {};
	const flag = (value: boolean | null) => (value === null ? null : value ? 1 : 0);
	if (input.name !== undefined) {
		if (input.name.trim() === '') throw new InputError('name must not be empty');
		columns.name = input.name.trim();
	}
	if (input.plan !== undefined) {
		const plan = input.plan.toLowerCase();
		if (!isPlanName(plan)) throw new InputError(`plan must be one of ${Object.keys(PLANS).join(', ')}`);
		columns.plan = plan;
	}
	if (input.planActive !== undefined) columns.plan_active = input.planActive ? 1 : 0;
	checkLimit('daily limit', input.dailyLimit, 0);
	checkLimit('monthly limit', input.monthlyLimit, 0);
	checkLimit('instance rate per minute', input.instanceRatePerMinute, 1);
	checkLimit('recipient rate per minute', input.recipientRatePerMinute, 1);
	checkLimit('webhook limit', input.webhookLimit, 0);
	if (input.webhookLimit !== undefined) columns.webhook_limit = input.webhookLimit;
	if (input.dailyLimit !== undefined) columns.daily_limit = input.dailyLimit;
	if (input.monthlyLimit !== undefined) columns.monthly_limit = input.monthlyLimit;
	if (input.instanceRatePerMinute !== undefined) columns.instance_rate_per_minute = input.instanceRatePerMinute;
	if (input.recipientRatePerMinute !== undefined) columns.recipient_rate_per_minute = input.recipientRatePerMinute;
	if (input.timeZone !== undefined) {
		if (!isValidTimeZone(input.timeZone))
			throw new InputError(`time zone "${input.timeZone}" is not an IANA time zone`);
		columns.time_zone = input.timeZone;
	}
	if (input.defaultCountry !== undefined) {
		const country = input.defaultCountry?.toUpperCase() ?? null;
		if (country !== null && !isSupportedCountry(country)) {
			throw new InputError(`default country "${input.defaultCountry}" is not an ISO 3166 two-letter code`);
		}
		columns.default_country = country;
	}
	if (input.apiAccess !== undefined) columns.api_access_enabled = flag(input.apiAccess);
	if (input.threecx !== undefined) columns.threecx_enabled = flag(input.threecx);
	return columns;
}

export class AccountService {
	private readonly repo: AccountRepository;

	constructor(
		db: Db,
		private readonly clock: Clock,
	) {
		this.repo = new AccountRepository(db);
	}

	create(input: AccountInput & { name: string }): Account {
		const columns = toColumns({ ...input, plan: input.plan ?? 'starter', timeZone: input.timeZone ?? 'UTC' });
		const row = this.repo.createAccount({
			name: columns.name as string,
			plan: columns.plan as PlanName,
			dailyLimit: columns.daily_limit ?? null,
			monthlyLimit: columns.monthly_limit ?? null,
			timeZone: columns.time_zone as string,
			defaultCountry: columns.default_country ?? null,
			now: this.clock.now(),
		});
		const { name: _name, plan: _plan, ...rest } = columns;
		return Object.keys(rest).length > 0 ? toAccount(this.repo.updateAccount(row, rest)) : toAccount(row);
	}

	update(id: number, input: AccountInput): Account {
		return toAccount(this.repo.updateAccount(this.requireRow(id), toColumns(input)));
	}

	find(id: number): Account | undefined {
		const row = this.repo.findAccount(id);
		return row ? toAccount(row) : undefined;
	}

	get(id: number): Account {
		return toAccount(this.requireRow(id));
	}

	list(): Account[] {
		return this.repo.listAccounts().map(toAccount);
	}

	/** Creates a key; the plain key is returned here once and never stored. */
	createKey(accountId: number, name = 'default'): { key: string; info: ApiKeyInfo } {
		this.requireRow(accountId);
		const key = generateApiKey();
		const row = this.repo.createKey({
			accountId,
			name,
			hash: hashApiKey(key),
			prefix: displayPrefix(key),
			now: this.clock.now(),
		});
		return { key, info: toKeyInfo(row) };
	}

	listKeys(accountId?: number): ApiKeyInfo[] {
		return this.repo.listKeys(accountId).map(toKeyInfo);
	}

	revokeKey(id: number): ApiKeyInfo {
		const row = this.repo.findKey(id);
		if (!row) throw new InputError(`API key ${id} does not exist`);
		this.repo.revokeKey(id, this.clock.now());
		return toKeyInfo(this.repo.findKey(id) as ApiKeyRow);
	}

	/**
	 * Resolves an API key to its key and account, or refuses with invalid_api_key / revoked_api_key.
	 * Revocation takes effect on the next request (no cache).
	 */
	authenticate(apiKey: string | undefined): { key: ApiKeyInfo; account: Account } {
		if (!apiKey) throw new ApiError('invalid_api_key');
		const row = this.repo.findKeyByHash(hashApiKey(apiKey));
		if (!row) throw new ApiError('invalid_api_key');
		if (row.revoked_at !== null) throw new ApiError('revoked_api_key');
		const accountRow = this.repo.findAccount(row.account_id);
		if (!accountRow) throw new ApiError('invalid_api_key');
		const now = this.clock.now();
		if (row.last_used_at === null || now - row.last_used_at >= KEY_TOUCH_INTERVAL_MS) {
			this.repo.touchKey(row.id, now);
			row.last_used_at = now;
		}
		return { key: toKeyInfo(row), account: toAccount(accountRow) };
	}

	getSetting(key: string): string | undefined {
		return this.repo.getSetting(key);
	}

	setSetting(key: string, value: string): void {
		this.repo.setSetting(key, value);
	}

	private requireRow(id: number): AccountRow {
		const row = this.repo.findAccount(id);
		if (!row) throw new InputError(`account ${id} does not exist`);
		return row;
	}
}
