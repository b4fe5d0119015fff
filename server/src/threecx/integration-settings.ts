import ipaddr from 'ipaddr.js';
import type { WebhookService } from '../events/webhooks';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import { normalizeThreecxPhone } from './event';
import type { IntegrationColumns } from './repository';
import { isTemplateEvent, TEMPLATE_EVENTS, TEMPLATE_VARIABLES, unknownVariables, type Template } from './templates';
import { characterCount } from '../messaging/request';

export const DESTINATION_FORMATS = ['gateway', 'generic_sms'] as const;
export type DestinationFormat = (typeof DESTINATION_FORMATS)[number];

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

/** What checking a change needs besides the change: the account's instances, the SSRF check, its default country. */
export interface SettingsContext {
	instances: Pick<InstanceService, 'resolve'>;
	webhooks: Pick<WebhookService, 'checkDestinationUrl'>;
	defaultCountry: string | null;
}

const MIN_HMAC_SECRET_LENGTH = 16;
const MAX_TEMPLATE_LENGTH = 1024;

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

/**
 * The operator's change as columns, every value checked (the first bad one is refused, in the order below); the
 * destination URL is checked against SSRF like any webhook's.
 */
export async function applySettings(
	current: IntegrationColumns,
	input: IntegrationInput,
	context: SettingsContext,
): Promise<IntegrationColumns> {
	const next = { ...current };
	applyIdentity(next, input, context.instances);
	applyCredentials(next, input);
	applySwitches(next, input);
	if (input.templates !== undefined)
		next.templates = JSON.stringify(mergeTemplateInput(JSON.parse(current.templates), input.templates));
	await applyDestination(next, input, context);
	return next;
}

/** Which instance the integration talks through (one of the account's own; required) and its name. */
function applyIdentity(next: IntegrationColumns, input: IntegrationInput, instances: SettingsContext['instances']) {
	if (input.instance !== undefined) {
		const instance = instances.resolve(input.instance, next.account_id);
		if (instance.accountId !== next.account_id)
			throw new InputError(`instance "${input.instance}" belongs to another account`);
		next.instance_id = instance.id;
	}
	if (next.instance_id === '') throw new InputError('an instance is required');
	if (input.name !== undefined) {
		if (input.name.trim() === '' || characterCount(input.name) > 100)
			throw new InputError('name must be 1-100 characters');
		next.name = input.name.trim();
	}
}

/** What 3CX's requests are checked against besides the secret: the HMAC secret and the IP allowlist. */
function applyCredentials(next: IntegrationColumns, input: IntegrationInput) {
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
}

/** The on/off switches, the conversation window and the business name the templates sign with. */
function applySwitches(next: IntegrationColumns, input: IntegrationInput) {
	const flag = (value: boolean | undefined, fallback: 0 | 1): 0 | 1 => (value === undefined ? fallback : value ? 1 : 0);
	next.enabled = flag(input.enabled, next.enabled);
	next.outbound_enabled = flag(input.outboundEnabled, next.outbound_enabled);
	next.call_events_enabled = flag(input.callEventsEnabled, next.call_events_enabled);
	next.strict_window = flag(input.strictWindow, next.strict_window);
	if (input.windowHours !== undefined) {
		if (!Number.isInteger(input.windowHours) || input.windowHours < 1 || input.windowHours > 720) {
			throw new InputError('window hours must be a whole number from 1 to 720');
		}
		next.window_hours = input.windowHours;
	}
	if (input.businessName !== undefined) {
		if (characterCount(input.businessName) > 100) throw new InputError('business name must be at most 100 characters');
		next.business_name = input.businessName.trim();
	}
}

/** The stored templates with the change laid over them, event by event; each text checked for its variables. */
function mergeTemplateInput(
	stored: Record<string, Partial<Template>>,
	change: NonNullable<IntegrationInput['templates']>,
) {
	const merged: Record<string, Partial<Template>> = { ...stored };
	for (const [event, template] of Object.entries(change)) {
		if (!isTemplateEvent(event))
			throw new InputError(`"${event.slice(0, 32)}" is not a template event (${TEMPLATE_EVENTS.join(', ')})`);
		if (template?.text !== undefined) {
			if (template.text.trim() === '' || characterCount(template.text) > MAX_TEMPLATE_LENGTH) {
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

/** Where inbound messages are forwarded, in which shape, and the line number the Generic SMS shape needs. */
async function applyDestination(next: IntegrationColumns, input: IntegrationInput, context: SettingsContext) {
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
				: normalizeThreecxPhone(input.lineNumber, context.defaultCountry);
		if (input.lineNumber && !line)
			throw new InputError(`line number "${input.lineNumber.slice(0, 40)}" is not a phone number`);
		next.line_number = line ?? null;
	}
	if (input.destinationUrl !== undefined) {
		next.destination_url =
			input.destinationUrl === null || input.destinationUrl === ''
				? null
				: await context.webhooks.checkDestinationUrl(input.destinationUrl);
	}
	if (next.destination_format === 'generic_sms' && next.destination_url !== null && next.line_number === null) {
		throw new InputError(
			'the generic_sms destination format needs the line number (the WhatsApp number 3CX knows this line by)',
		);
	}
}
