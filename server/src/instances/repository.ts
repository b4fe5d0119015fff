import type { Db } from '../db';
import { ReadCache } from '../db/read-cache';

export interface InstanceRow {
	id: string;
	account_id: number;
	name: string;
	display_name: string;
	provider: string;
	connection_state: string;
	paused: 0 | 1;
	paused_reason: string | null;
	paused_at: number | null;
	reviewed_at: number | null;
	created_at: number;
	/** JSON; may hold provider secrets: never leaves the gateway. */
	provider_settings: string;
	qr_code: string | null;
	qr_updated_at: number | null;
}

export class InstanceRepository {
	private readonly insert;
	private readonly selectById;
	private readonly selectByName;
	private readonly selectByAccount;
	private readonly selectAll;
	private readonly setPaused;
	private readonly setState;
	private readonly resumeStmt;
	private readonly setSettingsStmt;
	private readonly setQrStmt;
	private readonly setDisplayNameStmt;
	private readonly cache: ReadCache<InstanceRow>;

	constructor(db: Db) {
		this.cache = new ReadCache(db);
		this.insert = db.prepare<[string, number, string, string, string, string, string, number]>(
			`INSERT INTO instances (id, account_id, name, display_name, provider, connection_state, provider_settings, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		);
		this.selectById = db.prepare<[string], InstanceRow>('SELECT * FROM instances WHERE id = ?');
		this.selectByName = db.prepare<[number, string], InstanceRow>(
			'SELECT * FROM instances WHERE account_id = ? AND name = ?',
		);
		this.selectByAccount = db.prepare<[number], InstanceRow>(
			'SELECT * FROM instances WHERE account_id = ? ORDER BY created_at, id',
		);
		this.selectAll = db.prepare<[], InstanceRow>('SELECT * FROM instances ORDER BY account_id, created_at, id');
		this.setPaused = db.prepare<[0 | 1, string | null, number | null, string]>(
			'UPDATE instances SET paused = ?, paused_reason = ?, paused_at = ? WHERE id = ?',
		);
		this.setState = db.prepare<[string, string]>('UPDATE instances SET connection_state = ? WHERE id = ?');
		this.setSettingsStmt = db.prepare<[string, string]>('UPDATE instances SET provider_settings = ? WHERE id = ?');
		this.setQrStmt = db.prepare<[string | null, number | null, string]>(
			'UPDATE instances SET qr_code = ?, qr_updated_at = ? WHERE id = ?',
		);
		this.setDisplayNameStmt = db.prepare<[string, string]>('UPDATE instances SET display_name = ? WHERE id = ?');
		this.resumeStmt = db.prepare<[number, string]>(
			'UPDATE instances SET paused = 0, paused_reason = NULL, paused_at = NULL, reviewed_at = ? WHERE id = ?',
		);
	}

	create(
		row: Omit<InstanceRow, 'paused' | 'paused_reason' | 'paused_at' | 'reviewed_at' | 'qr_code' | 'qr_updated_at'>,
	): void {
		this.cache.invalidate();
		this.insert.run(
			row.id,
			row.account_id,
			row.name,
			row.display_name,
			row.provider,
			row.connection_state,
			row.provider_settings,
			row.created_at,
		);
	}

	findById(id: string): InstanceRow | undefined {
		return this.selectById.get(id);
	}

	/** The same row through the read cache: the send path reads an instance's provider settings per send. */
	findByIdCached(id: string): InstanceRow | undefined {
		return this.cache.get(`id|${id}`, () => this.selectById.get(id));
	}

	/** An instance of this account whose id or name is `ref`; an id match wins over a name match. */
	findForAccount(accountId: number, ref: string): InstanceRow | undefined {
		return this.cache.get(`${accountId}|${ref}`, () => {
			const byId = this.selectById.get(ref);
			if (byId && byId.account_id === accountId) return byId;
			return this.selectByName.get(accountId, ref);
		});
	}

	listForAccount(accountId: number): InstanceRow[] {
		return this.selectByAccount.all(accountId);
	}

	listAll(): InstanceRow[] {
		return this.selectAll.all();
	}

	pause(id: string, reason: string, now: number): void {
		this.setPaused.run(1, reason, now, id);
		this.cache.invalidate();
	}

	resume(id: string, now: number): void {
		this.resumeStmt.run(now, id);
		this.cache.invalidate();
	}

	setConnectionState(id: string, state: string): void {
		this.setState.run(state, id);
		this.cache.invalidate();
	}

	setProviderSettings(id: string, settings: string): void {
		this.setSettingsStmt.run(settings, id);
		this.cache.invalidate();
	}

	updateDisplayName(id: string, displayName: string): void {
		this.setDisplayNameStmt.run(displayName, id);
		this.cache.invalidate();
	}

	setQr(id: string, code: string | null, at: number | null): void {
		this.setQrStmt.run(code, at, id);
		this.cache.invalidate();
	}
}
