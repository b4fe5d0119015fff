import type { Db } from '../db';
import { ReadCache } from '../db/read-cache';
import type { PlanName } from './plans';

export interface AccountRow {
	id: number;
	name: string;
	plan: PlanName;
	plan_active: 0 | 1;
	daily_limit: number | null;
	monthly_limit: number | null;
	time_zone: string;
	default_country: string | null;
	api_access_enabled: 0 | 1 | null;
	threecx_enabled: 0 | 1 | null;
	instance_rate_per_minute: number | null;
	recipient_rate_per_minute: number | null;
	webhook_limit: number | null;
	created_at: number;
}

export interface ApiKeyRow {
	id: number;
	account_id: number;
	name: string;
	key_hash: string;
	key_prefix: string;
	created_at: number;
	last_used_at: number | null;
	revoked_at: number | null;
}

export type AccountUpdate = Partial<Omit<AccountRow, 'id' | 'created_at'>>;

const UPDATABLE_COLUMNS = [
	'name',
	'plan',
	'plan_active',
	'daily_limit',
	'monthly_limit',
	'time_zone',
	'default_country',
	'api_access_enabled',
	'threecx_enabled',
	'instance_rate_per_minute',
	'recipient_rate_per_minute',
	'webhook_limit',
] as const satisfies readonly (keyof AccountUpdate)[];

export class AccountRepository {
	private readonly insertAccount;
	private readonly selectAccount;
	private readonly selectAccounts;
	private readonly updateAccountStmt;
	private readonly insertKey;
	private readonly selectKeyByHash;
	private readonly selectKeyById;
	private readonly selectKeys;
	private readonly revokeKeyStmt;
	private readonly touchKeyStmt;
	private readonly selectSetting;
	private readonly upsertSetting;
	private readonly keysByHash: ReadCache<ApiKeyRow>;
	private readonly accountsById: ReadCache<AccountRow>;

	constructor(private readonly db: Db) {
		this.keysByHash = new ReadCache(db);
		this.accountsById = new ReadCache(db);
		this.insertAccount = db.prepare<[string, PlanName, number | null, number | null, string, string | null, number]>(
			`INSERT INTO accounts (name, plan, daily_limit, monthly_limit, time_zone, default_country, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
		);
		this.selectAccount = db.prepare<[number], AccountRow>('SELECT * FROM accounts WHERE id = ?');
		this.selectAccounts = db.prepare<[], AccountRow>('SELECT * FROM accounts ORDER BY id');
		// Every updatable column is written; callers merge the change onto the current row first.
		this.updateAccountStmt = db.prepare(
			`UPDATE accounts SET ${UPDATABLE_COLUMNS.map((column) => `${column} = @${column}`).join(', ')} WHERE id = @id`,
		);
		this.insertKey = db.prepare<[number, string, string, string, number]>(
			'INSERT INTO api_keys (account_id, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?)',
		);
		this.selectKeyByHash = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?');
		this.selectKeyById = db.prepare<[number], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?');
		this.selectKeys = db.prepare<[number | null, number | null], ApiKeyRow>(
			'SELECT * FROM api_keys WHERE (? IS NULL OR account_id = ?) ORDER BY id',
		);
		this.revokeKeyStmt = db.prepare<[number, number]>(
			'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
		);
		this.touchKeyStmt = db.prepare<[number, number]>('UPDATE api_keys SET last_used_at = ? WHERE id = ?');
		this.selectSetting = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
		this.upsertSetting = db.prepare<[string, string]>(
			'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
		);
	}

	createAccount(input: {
		name: string;
		plan: PlanName;
		dailyLimit: number | null;
		monthlyLimit: number | null;
		timeZone: string;
		defaultCountry: string | null;
		now: number;
	}): AccountRow {
		const result = this.insertAccount.run(
			input.name,
			input.plan,
			input.dailyLimit,
			input.monthlyLimit,
			input.timeZone,
			input.defaultCountry,
			input.now,
		);
		return this.findAccount(Number(result.lastInsertRowid)) as AccountRow;
	}

	findAccount(id: number): AccountRow | undefined {
		return this.accountsById.get(id, (key) => this.selectAccount.get(key));
	}

	listAccounts(): AccountRow[] {
		return this.selectAccounts.all();
	}

	updateAccount(current: AccountRow, change: AccountUpdate): AccountRow {
		this.updateAccountStmt.run({ ...current, ...change, id: current.id });
		this.accountsById.invalidate();
		return this.findAccount(current.id) as AccountRow;
	}

	createKey(input: { accountId: number; name: string; hash: string; prefix: string; now: number }): ApiKeyRow {
		const result = this.insertKey.run(input.accountId, input.name, input.hash, input.prefix, input.now);
		this.keysByHash.invalidate();
		return this.findKey(Number(result.lastInsertRowid)) as ApiKeyRow;
	}

	/** Cached: called on every request. The row is shared; only last_used_at may be updated on it. */
	findKeyByHash(hash: string): ApiKeyRow | undefined {
		return this.keysByHash.get(hash, (key) => this.selectKeyByHash.get(key));
	}

	findKey(id: number): ApiKeyRow | undefined {
		return this.selectKeyById.get(id);
	}

	listKeys(accountId?: number): ApiKeyRow[] {
		const id = accountId ?? null;
		return this.selectKeys.all(id, id);
	}

	revokeKey(id: number, now: number): boolean {
		const revoked = this.revokeKeyStmt.run(now, id).changes > 0;
		this.keysByHash.invalidate();
		return revoked;
	}

	touchKey(id: number, now: number): void {
		this.touchKeyStmt.run(now, id);
	}

	getSetting(key: string): string | undefined {
		return this.selectSetting.get(key)?.value;
	}

	setSetting(key: string, value: string): void {
		this.upsertSetting.run(key, value);
	}
}
