import ipaddr from 'ipaddr.js';
import { randomBase62 } from '../accounts/keys';
import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import type { WebhookService } from '../events/webhooks';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import { normalizeThreecxPhone } from './event';
import type { IntegrationColumns, IntegrationRow, ThreecxRepository } from './repository';
import {
	isTemplateEvent,
	mergeTemplates,
	TEMPLATE_EVENTS,
	TEMPLATE_VARIABLES,
	unknownVariables,
	type Template,
	type TemplateEvent,
	type Templates,
} from './templates';

export const DESTINATION_FORMATS = ['gateway', 'generic_sms'] as const;
export type DestinationFormat = (typeof DESTINATION_FORMATS)[number];

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

/** What an operator may set; undefined leaves a setting as it is, null clears an optional one. */
export interface IntegrationInput {
	instance?: string;
	name?: string;
	hmacSecret?: string | null;
	ipAllowlist?: string[] | null;
	enabled?: boolean;
	outboundEnabled?: boolean;
	callEventsEnabled?: boolean;
	templates?: Partial<Record<string, Partial<Template>>>;
	businessName?: string;
	strictWindow?: boolean;
	windowHours?: number;
	destinationUrl?: string | null;
	destinationFormat?: string;
	lineNumber?: string | null;
}

const SECRET_PREFIX = 'tcx_';
const MIN_HMAC_SECRET_LENGTH = 16;
const MAX_TEMPLATE_LENGTH = 1024;

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

/** "10.0.0.0/8", "2001:db8::/32" or a single address; refuses anything else with the entry named. */
export function parseAllowlist(entries: string[]): string[] {
	return entries
		.map((entry) => entry.trim())
		.filter(Boolean)
		.map((entry) => {
			try {
				if (entry.includes('/')) {
					const [address, bits] = ipaddr.parseCIDR(entry);
					return `${address.toString()}/${bits}`;
				}
				const address = ipaddr.parse(entry);
				return `${address.toString()}/${address.kind() === 'ipv4' ? 32 : 128}`;
			} catch {
				throw new InputError(`IP allowlist entry "${entry.slice(0, 64)}" is not an IP address or CIDR range`);
			}
		});
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

	/** The operator's change as columns, every value checked; the destination URL against SSRF like any webhook's. */
	private async applyInput(
		current: IntegrationColumns,
		input: IntegrationInput,
		defaultCountry: string | null,
	): Promise<IntegrationColumns> {
		const next = { ...current };
		const flag = (value: boolean | undefined, fallback: 0 | 1): 0 | 1 =>
			value === undefined ? fallback : value ? 1 : 0;
		if (input.instance !== undefined) {
			const instance = this.deps.instances.resolve(input.instance, current.account_id);
			if (instance.accountId !== current.account_id)
				throw new InputError(`instance "${input.instance}" belongs to another account`);
			next.instance_id = instance.id;
		}
		if (next.instance_id === '') throw new InputError('an instance is required');
		if (input.name !== undefined) {
			if (input.name.trim() === '' || input.name.length > 100) throw new InputError('name must be 1-100 characters');
			next.name = input.name.trim();
		}
		if (input.hmacSecret !== undefined) {
			if (input.hmacSecret !== null && input.hmacSecret.length < MIN_HMAC_SECRET_LENGTH) {
				throw new InputError(`HMAC secret must be at least ${MIN_HMAC_SECRET_LENGTH} characters`);
			}
			next.hmac_secret = input.hmacSecret === '' ? null : input.hmacSecret;
		}
		if (input.ipAllowlist !== undefined) {
			const ranges = input.ipAllowlist === null ? [] : parseAllowlist(input.ipAllowlist);
			next.ip_allowlist = ranges.length > 0 ? JSON.stringify(ranges) : null;
		}
		next.enabled = flag(input.enabled, current.enabled);
		next.outbound_enabled = flag(input.outboundEnabled, current.outbound_enabled);
		next.call_events_enabled = flag(input.callEventsEnabled, current.call_events_enabled);
		next.strict_window = flag(input.strictWindow, current.strict_window);
		if (input.windowHours !== undefined) {
			if (!Number.isInteger(input.windowHours) || input.windowHours < 1 || input.windowHours > 720) {
				throw new InputError('window hours must be a whole number from 1 to 720');
			}
			next.window_hours = input.windowHours;
		}
		if (input.businessName !== undefined) {
			if (input.businessName.length > 100) throw new InputError('business name must be at most 100 characters');
			next.business_name = input.businessName.trim();
		}
		if (input.templates !== undefined)
			next.templates = JSON.stringify(this.mergeTemplateInput(JSON.parse(current.templates), input.templates));
		if (input.destinationFormat !== undefined) {
			if (!(DESTINATION_FORMATS as readonly string[]).includes(input.destinationFormat)) {
				throw new InputError(`destination format must be one of ${DESTINATION_FORMATS.join(', ')}`);
			}
			next.destination_format = input.destinationFormat as DestinationFormat;
		}
		if (input.lineNumber !== undefined) {
			const line =
				input.lineNumber === null || input.lineNumber === ''
					? null
					: normalizeThreecxPhone(input.lineNumber, defaultCountry);
			if (input.lineNumber && !line)
				throw new InputError(`line number "${input.lineNumber.slice(0, 40)}" is not a phone number`);
			next.line_number = line ?? null;
		}
		if (input.destinationUrl !== undefined) {
			next.destination_url =
				input.destinationUrl === null || input.destinationUrl === ''
					? null
					: await this.deps.webhooks.checkDestinationUrl(input.destinationUrl);
		}
		if (next.destination_format === 'generic_sms' && next.destination_url !== null && next.line_number === null) {
			throw new InputError(
				'the generic_sms destination format needs the line number (the WhatsApp number 3CX knows this line by)',
			);
		}
		return next;
	}

	private mergeTemplateInput(
		stored: Record<string, Partial<Template>>,
		change: NonNullable<IntegrationInput['templates']>,
	) {
		const merged: Record<string, Partial<Template>> = { ...stored };
		for (const [event, template] of Object.entries(change)) {
			if (!isTemplateEvent(event))
				throw new InputError(`"${event.slice(0, 32)}" is not a template event (${TEMPLATE_EVENTS.join(', ')})`);
			if (template?.text !== undefined) {
				if (template.text.trim() === '' || template.text.length > MAX_TEMPLATE_LENGTH) {
					throw new InputError(`the ${event} template must be 1-${MAX_TEMPLATE_LENGTH} characters`);
				}
				const unknown = unknownVariables(template.text);
				if (unknown.length > 0) {
					throw new InputError(
						`the ${event} template uses unknown variables: ${unknown.join(', ')} (known: ${TEMPLATE_VARIABLES.join(', ')})`,
					);
				}
			}
			merged[event] = { ...merged[event], ...template };
		}
		return merged;
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
