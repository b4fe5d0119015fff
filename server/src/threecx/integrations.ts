import { randomBase62 } from '../accounts/keys';
import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import type { WebhookService } from '../events/webhooks';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import { applySettings, type DestinationFormat, type IntegrationInput } from './integration-settings';
import type { IntegrationColumns, IntegrationRow, ThreecxRepository } from './repository';
import { mergeTemplates, type Template, type TemplateEvent, type Templates } from './templates';

/** The service's create and update take it; it lives with the checks that turn it into columns. */
export type { IntegrationInput } from './integration-settings';

/** A 3CX integration: one account's 3CX system talking to one of its instances. */
export interface Integration {
	id: number;
	accountId: number;
	instanceId: string;
	name: string;
	/** The X-WhatsApp-Gateway-3CX-Secret; never shown after creation or rotation. */
	secret: string;
	hmacSecret: string | null;
	ipAllowlist: string[];
	enabled: boolean;
	outboundEnabled: boolean;
	callEventsEnabled: boolean;
	templates: Templates;
	businessName: string;
	strictWindow: boolean;
	windowHours: number;
	destinationUrl: string | null;
	destinationFormat: DestinationFormat;
	lineNumber: string | null;
	webhookId: string | null;
	createdAt: number;
	updatedAt: number;
}

const SECRET_PREFIX = 'tcx_';

export const generateThreecxSecret = () => SECRET_PREFIX + randomBase62(40);

function toIntegration(row: IntegrationRow): Integration {
	return {
		id: row.id,
		accountId: row.account_id,
		instanceId: row.instance_id,
		name: row.name,
		secret: row.secret,
		hmacSecret: row.hmac_secret,
		ipAllowlist: row.ip_allowlist ? (JSON.parse(row.ip_allowlist) as string[]) : [],
		enabled: row.enabled === 1,
		outboundEnabled: row.outbound_enabled === 1,
		callEventsEnabled: row.call_events_enabled === 1,
		templates: mergeTemplates(JSON.parse(row.templates) as Partial<Record<TemplateEvent, Partial<Template>>>),
		businessName: row.business_name,
		strictWindow: row.strict_window === 1,
		windowHours: row.window_hours,
		destinationUrl: row.destination_url,
		destinationFormat: row.destination_format,
		lineNumber: row.line_number,
		webhookId: row.webhook_id,
		createdAt: row.created_at,
		updatedAt: row.updated_at,
	};
}

/** The 3CX integrations of every account (CLI and operator API): settings, secrets, and the forwarding subscription. */
export class IntegrationService {
	constructor(
		private readonly repo: ThreecxRepository,
		private readonly deps: {
			clock: Clock;
			accounts: Pick<AccountService, 'get'>;
			instances: Pick<InstanceService, 'resolve'>;
			webhooks: Pick<
				WebhookService,
				'checkDestinationUrl' | 'createManaged' | 'retargetManaged' | 'deleteInTransaction' | 'setEnabled'
			>;
		},
	) {}

	/** Creates an integration; its secret is returned here and by `rotateSecret` only. */
	async create(
		accountId: number,
		input: IntegrationInput & { instance: string },
	): Promise<{ integration: Integration; secret: string }> {
		const account = this.deps.accounts.get(accountId);
		const secret = generateThreecxSecret();
		const base: IntegrationColumns = {
			account_id: account.id,
			instance_id: '',
			name: '3CX',
			secret,
			hmac_secret: null,
			ip_allowlist: null,
			enabled: 1,
			outbound_enabled: 1,
			call_events_enabled: 1,
			templates: '{}',
			business_name: account.name,
			strict_window: 1,
			window_hours: 24,
			destination_url: null,
			destination_format: 'gateway',
			line_number: null,
			webhook_id: null,
		};
		const columns = await this.applyInput(base, input, account.defaultCountry);
		const id = this.repo.transaction(() => {
			const newId = this.repo.insertIntegration(columns, this.deps.clock.now());
			this.syncForwarding(newId, columns);
			return newId;
		});
		return { integration: this.get(id), secret };
	}

	async update(id: number, input: IntegrationInput): Promise<Integration> {
		const row = this.requireRow(id);
		const account = this.deps.accounts.get(row.account_id);
		const { id: _id, created_at: _created, updated_at: _updated, ...current } = row;
		const columns = await this.applyInput(current, input, account.defaultCountry);
		this.repo.transaction(() => {
			this.repo.updateIntegration(id, columns, this.deps.clock.now());
			this.syncForwarding(id, columns, row);
		});
		return this.get(id);
	}

	/** A new webhook secret; the old one stops working at once. */
	rotateSecret(id: number): { integration: Integration; secret: string } {
		const row = this.requireRow(id);
		const { id: _id, created_at: _created, updated_at: _updated, ...current } = row;
		const secret = generateThreecxSecret();
		const columns = { ...current, secret };
		this.repo.transaction(() => {
			this.repo.updateIntegration(id, columns, this.deps.clock.now());
			this.syncForwarding(id, columns, row);
		});
		return { integration: this.get(id), secret };
	}

	delete(id: number): void {
		const row = this.requireRow(id);
		this.repo.transaction(() => {
			this.repo.deleteIntegration(id);
			if (row.webhook_id) this.deps.webhooks.deleteInTransaction(row.webhook_id);
		});
	}

	find(id: number): Integration | undefined {
		const row = this.repo.findIntegration(id);
		return row ? toIntegration(row) : undefined;
	}

	get(id: number): Integration {
		return toIntegration(this.requireRow(id));
	}

	list(accountId?: number): Integration[] {
		return this.repo.listIntegrations(accountId).map(toIntegration);
	}

	private requireRow(id: number): IntegrationRow {
		const row = Number.isSafeInteger(id) ? this.repo.findIntegration(id) : undefined;
		if (!row) throw new InputError(`3CX integration ${id} does not exist`);
		return row;
	}

	/** The operator's change as columns, every value checked (integration-settings.ts). */
	private applyInput(
		current: IntegrationColumns,
		input: IntegrationInput,
		defaultCountry: string | null,
	): Promise<IntegrationColumns> {
		const { instances, webhooks } = this.deps;
		return applySettings(current, input, { instances, webhooks, defaultCountry });
	}

	/**
	 * Keeps the integration's forwarding subscription in step with its settings, in the same transaction:
	 * it exists while a destination URL is set, delivers `message.received` of the integration's instance in
	 * the chosen shape, is signed with the HMAC secret (the webhook secret when there is none), and is
	 * switched off while the integration is.
	 */
	private syncForwarding(id: number, columns: IntegrationColumns, before?: IntegrationRow): void {
		const webhooks = this.deps.webhooks;
		let webhookId = columns.webhook_id;
		const signingSecret = columns.hmac_secret ?? columns.secret;
		if (webhookId && (columns.destination_url === null || before?.instance_id !== columns.instance_id)) {
			columns.webhook_id = null;
			this.repo.updateIntegration(id, columns, this.deps.clock.now());
			webhooks.deleteInTransaction(webhookId);
			webhookId = null;
		}
		if (columns.destination_url === null) return;
		if (!webhookId) {
			const webhook = webhooks.createManaged({
				accountId: columns.account_id,
				instanceId: columns.instance_id,
				destinationUrl: columns.destination_url,
				events: ['message.received'],
				format: columns.destination_format,
				secret: signingSecret,
				managedBy: `3cx:${id}`,
			});
			columns.webhook_id = webhook.id;
			this.repo.updateIntegration(id, columns, this.deps.clock.now());
			webhookId = webhook.id;
		} else {
			webhooks.retargetManaged(webhookId, {
				destinationUrl: columns.destination_url,
				format: columns.destination_format,
				secret: signingSecret,
			});
		}
		// Only a change of the switch or of the destination touches it: a 410 that disabled it stays visible.
		const switched =
			before === undefined || before.enabled !== columns.enabled || before.destination_url !== columns.destination_url;
		if (switched) webhooks.setEnabled(webhookId, columns.enabled === 1, 'the 3CX integration is disabled');
	}
}
