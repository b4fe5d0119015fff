import type { Clock } from '../clock';
import type { Db } from '../db';
import { InputError } from '../input-error';
import { normalizePhone } from '../common/phone';

export type SuppressionSource = 'manual' | 'keyword' | 'policy';

export interface Suppression {
	accountId: number;
	phone: string;
	reason: string;
	source: SuppressionSource;
	createdAt: number;
}

interface SuppressionRow {
	account_id: number;
	phone: string;
	reason: string;
	source: SuppressionSource;
	created_at: number;
}

const toSuppression = (row: SuppressionRow): Suppression => ({
	accountId: row.account_id,
	phone: row.phone,
	reason: row.reason,
	source: row.source,
	createdAt: row.created_at,
});

/** Recipients an account may not message: operator suppressions and recipients' own opt-outs. */
export class SuppressionService {
	private readonly selectOne;
	private readonly selectForAccount;
	private readonly upsert;
	private readonly deleteOne;
	private readonly searchForAccount;

	constructor(
		db: Db,
		private readonly clock: Clock,
	) {
		this.selectOne = db.prepare<[number, string], SuppressionRow>(
			'SELECT * FROM suppressions WHERE account_id = ? AND phone = ?',
		);
		this.selectForAccount = db.prepare<[number], SuppressionRow>(
			'SELECT * FROM suppressions WHERE account_id = ? ORDER BY created_at DESC, phone',
		);
		this.upsert = db.prepare<[number, string, string, SuppressionSource, number]>(
			`INSERT INTO suppressions (account_id, phone, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account_id, phone) DO UPDATE SET reason = excluded.reason, source = excluded.source,
         created_at = excluded.created_at`,
		);
		this.searchForAccount = db.prepare<[number, string, number, number], SuppressionRow>(
			`SELECT * FROM suppressions WHERE account_id = ? AND instr(phone, ?) > 0
       ORDER BY created_at DESC, phone LIMIT ? OFFSET ?`,
		);
		this.deleteOne = db.prepare<[number, string]>('DELETE FROM suppressions WHERE account_id = ? AND phone = ?');
	}

	find(accountId: number, phone: string): Suppression | undefined {
		const row = this.selectOne.get(accountId, phone);
		return row ? toSuppression(row) : undefined;
	}

	list(accountId: number): Suppression[] {
		return this.selectForAccount.all(accountId).map(toSuppression);
	}

	/** A page of the account's suppressions whose number contains `digits` (all when empty), newest first. */
	search(accountId: number, digits: string, limit: number, offset: number): Suppression[] {
		return this.searchForAccount.all(accountId, digits, limit, offset).map(toSuppression);
	}

	add(
		accountId: number,
		rawPhone: string,
		reason: string,
		source: SuppressionSource,
		defaultCountry: string | null = null,
	): Suppression {
		const phone = this.requirePhone(rawPhone, defaultCountry);
		this.upsert.run(accountId, phone, reason.trim() || 'suppressed', source, this.clock.now());
		return this.find(accountId, phone) as Suppression;
	}

	remove(accountId: number, rawPhone: string, defaultCountry: string | null = null): boolean {
		return this.deleteOne.run(accountId, this.requirePhone(rawPhone, defaultCountry)).changes > 0;
	}

	private requirePhone(raw: string, defaultCountry: string | null): string {
		const phone = normalizePhone(raw, defaultCountry);
		if (!phone) throw new InputError(`"${raw}" is not a valid phone number`);
		return phone;
	}
}
