import type { Clock } from '../clock';
import type { Db } from '../db';
import { randomBase62 } from '../accounts/keys';
import { InputError } from '../input-error';
import { InstanceRepository, type InstanceRow } from './repository';

export interface Instance {
	id: string;
	accountId: number;
	name: string;
	displayName: string;
	provider: string;
	connectionState: string;
	paused: boolean;
	pausedReason: string | null;
	pausedAt: number | null;
	reviewedAt: number | null;
	createdAt: number;
}

/** A provider's settings for one instance, as stored; each provider reads its own keys. */
export type ProviderSettings = Record<string, unknown>;

/** What a provider needs to know about the instance it works for (the provider seam's view of an instance). */
export interface ProviderInstance {
	id: string;
	name: string;
	settings: ProviderSettings;
}

/** Validates a provider's settings (merged over the current ones) and returns what to store: the provider area's, injected. */
export type SettingsParser = (provider: string, given: ProviderSettings, current: ProviderSettings) => ProviderSettings;

export interface InstanceUpdate {
	displayName?: string;
	/** Merged over the stored settings; a key set to null is removed. */
	providerSettings?: ProviderSettings;
}

export interface InstanceInput {
	accountId: number;
	name: string;
	displayName?: string;
	provider: string;
	connectionState: string;
	providerSettings?: ProviderSettings;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function toInstance(row: InstanceRow): Instance {
	return {
		id: row.id,
		accountId: row.account_id,
		name: row.name,
		displayName: row.display_name,
		provider: row.provider,
		connectionState: row.connection_state,
		paused: row.paused === 1,
		pausedReason: row.paused_reason,
		pausedAt: row.paused_at,
		reviewedAt: row.reviewed_at,
		createdAt: row.created_at,
	};
}

/** "demo-support-line" → "Demo Support Line". */
function titleFromName(name: string): string {
	return name
		.split(/[-_]+/)
		.filter(Boolean)
		.map((word) => word[0].toUpperCase() + word.slice(1))
		.join(' ');
}

export class InstanceService {
	private readonly repo: InstanceRepository;
	private readonly parsedSettings = new WeakMap<InstanceRow, ProviderSettings>();

	/** `providers`: the provider names this gateway can send through; an instance must use one of them. */
	constructor(
		db: Db,
		private readonly clock: Clock,
		private readonly providers: readonly string[],
		private readonly parseSettings: SettingsParser = (_provider, given, current) => ({ ...current, ...given }),
	) {
		this.repo = new InstanceRepository(db);
	}

	create(input: InstanceInput): Instance {
		if (!this.providers.includes(input.provider)) {
			throw new InputError(`provider must be one of ${this.providers.join(', ')} (got "${input.provider}")`);
		}
		const name = input.name.trim();
		if (!NAME_PATTERN.test(name)) {
			throw new InputError(
				'instance name must be 1-63 lowercase letters, digits, "-" or "_", starting with a letter or digit',
			);
		}
		if (this.repo.findForAccount(input.accountId, name)) {
			throw new InputError(`account ${input.accountId} already has an instance named "${name}"`);
		}
		const settings = this.parseSettings(input.provider, input.providerSettings ?? {}, {});
		const id = `inst_${randomBase62(16)}`;
		this.repo.create({
			id,
			account_id: input.accountId,
			name,
			display_name: input.displayName?.trim() || titleFromName(name),
			provider: input.provider,
			connection_state: input.connectionState,
			provider_settings: JSON.stringify(settings),
			created_at: this.clock.now(),
		});
		return this.get(id);
	}

	/** Through the read cache: every provider report (delivered, read) looks its instance up. */
	get(id: string): Instance {
		const row = this.repo.findByIdCached(id);
		if (!row) throw new InputError(`instance ${id} does not exist`);
		return toInstance(row);
	}

	findById(id: string): Instance | undefined {
		const row = this.repo.findById(id);
		return row ? toInstance(row) : undefined;
	}

	findForAccount(accountId: number, ref: string): Instance | undefined {
		const row = this.repo.findForAccount(accountId, ref);
		return row ? toInstance(row) : undefined;
	}

	/** Looks an instance up by id, or by "<account id>/<name>"-free name when only one account has it (CLI use). */
	resolve(ref: string, accountId?: number): Instance {
		if (accountId !== undefined) {
			const found = this.findForAccount(accountId, ref);
			if (!found) throw new InputError(`account ${accountId} has no instance "${ref}"`);
			return found;
		}
		const byId = this.repo.findById(ref);
		if (byId) return toInstance(byId);
		const byName = this.repo.listAll().filter((row) => row.name === ref);
		if (byName.length === 1) return toInstance(byName[0]);
		if (byName.length > 1) throw new InputError(`several accounts have an instance "${ref}": pass --account`);
		throw new InputError(`instance "${ref}" does not exist`);
	}

	list(accountId?: number): Instance[] {
		return (accountId === undefined ? this.repo.listAll() : this.repo.listForAccount(accountId)).map(toInstance);
	}

	pause(id: string, reason: string): Instance {
		this.get(id);
		this.repo.pause(id, reason, this.clock.now());
		return this.get(id);
	}

	resume(id: string): Instance {
		this.get(id);
		this.repo.resume(id, this.clock.now());
		return this.get(id);
	}

	/** The instance's provider settings (secrets included, read-only): for its provider only, never for an answer or a log. */
	providerSettings(id: string): ProviderSettings {
		const row = this.repo.findByIdCached(id);
		if (!row) throw new InputError(`instance ${id} does not exist`);
		// Read on every send (pace, then the provider): parsed once per cached row, and frozen since it is shared.
		let settings = this.parsedSettings.get(row);
		if (!settings) {
			const parsed: unknown = JSON.parse(row.provider_settings);
			settings = Object.freeze(
				typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed } : {},
			);
			this.parsedSettings.set(row, settings);
		}
		return settings;
	}

	/** The instance as its provider is given it: id, name and settings (secrets included: for the provider only). */
	providerTarget(instance: Pick<Instance, 'id' | 'name'>): ProviderInstance {
		return { id: instance.id, name: instance.name, settings: this.providerSettings(instance.id) };
	}

	/** A QR code only serves while pairing: connected or disconnected, it is gone. */
	setConnectionState(id: string, state: string): void {
		this.repo.setConnectionState(id, state);
		if (state === 'connected' || state === 'disconnected') this.repo.setQr(id, null, null);
	}

	/** Changes the display name or provider settings (validated by the provider, merged over the stored ones). */
	update(id: string, change: InstanceUpdate): Instance {
		const instance = this.get(id);
		if (change.displayName !== undefined) {
			const displayName = change.displayName.trim();
			if (!displayName) throw new InputError('display name must not be empty');
			this.repo.updateDisplayName(id, displayName);
		}
		if (change.providerSettings !== undefined) {
			const current = { ...this.providerSettings(id) };
			const given = { ...change.providerSettings };
			for (const [key, value] of Object.entries(given)) {
				if (value === null) {
					delete current[key];
					delete given[key];
				}
			}
			this.repo.setProviderSettings(id, JSON.stringify(this.parseSettings(instance.provider, given, current)));
		}
		return this.get(id);
	}

	/** The names of the settings an instance has (never their values: some are secrets). */
	settingNames(id: string): string[] {
		return Object.keys(this.providerSettings(id)).sort();
	}

	/** The last QR code its provider reported (cleared once connected). */
	qr(id: string): { code: string; at: number } | undefined {
		const row = this.repo.findById(id);
		if (!row?.qr_code || row.qr_updated_at === null) return undefined;
		return { code: row.qr_code, at: row.qr_updated_at };
	}

	setQr(id: string, code: string, at: number): void {
		this.repo.setQr(id, code, at);
	}
}
