import { InvalidArgumentError, type Command } from 'commander';
import type { Gateway } from '../../gateway';
import type { IntegrationInput } from '../../threecx/integrations';
import { randomBase62 } from '../../accounts/keys';
import { integrationJson, threecxEventJson } from '../../threecx/presenter';
import { TEMPLATE_EVENTS } from '../../threecx/templates';
import { jsonOption, wholeNumber, type CliContext } from '../context';
import { record, table } from '../format';

function onOff(value: string): boolean {
	if (value === 'on') return true;
	if (value === 'off') return false;
	throw new InvalidArgumentError('must be on or off');
}

/** "missed_call" → "missed-call" (the option) and "missedCall" (commander's key). */
const optionName = (event: string) => event.replace(/_/g, '-');
const flagKey = (event: string) => event.replace(/_(\w)/g, (_all, letter: string) => letter.toUpperCase());

interface SettingsFlags {
	instance?: string;
	name?: string;
	businessName?: string;
	hmacSecret?: string;
	generateHmacSecret?: boolean;
	allowIps?: string;
	enabled?: boolean;
	outbound?: boolean;
	callEvents?: boolean;
	strictWindow?: boolean;
	windowHours?: number;
	destinationUrl?: string;
	destinationFormat?: string;
	lineNumber?: string;
	json?: boolean;
	[templateFlag: string]: unknown;
}

/** The settings both `create` and `update` take. */
function settingsOptions(command: Command): Command {
	command
		.option('--instance <instance>', 'the instance 3CX replies go through (id or name)')
		.option('--name <text>', 'a name for the operator, e.g. "Head office PBX"')
		.option('--business-name <text>', 'the {{business_name}} of the templates (default: the account name)')
		.option(
			'--hmac-secret <secret>',
			'require X-WhatsApp-Gateway-Signature with this key (at least 16 characters; "none" removes it)',
		)
		.option('--generate-hmac-secret', 'require signatures with a generated key, printed once')
		.option(
			'--allow-ips <ranges>',
			'comma-separated CIDR ranges or addresses 3CX posts from ("any" allows every address)',
		)
		.option('--enabled <on|off>', 'accept requests at all', onOff)
		.option('--outbound <on|off>', 'accept outbound_message (agent replies)', onOff)
		.option('--call-events <on|off>', 'send call-event templates', onOff)
		.option('--strict-window <on|off>', 'only reply when the customer wrote within the window (default on)', onOff)
		.option('--window-hours <n>', 'the conversation window (default 24)', wholeNumber)
		.option(
			'--destination-url <url>',
			'forward inbound WhatsApp messages of the instance here ("none" stops forwarding)',
		)
		.option(
			'--destination-format <format>',
			'gateway (the message.received event) or generic_sms (3CX Generic SMS webhook envelope)',
		)
		.option(
			'--line-number <phone>',
			'the WhatsApp number 3CX knows this line by (the "to" of the generic_sms envelope)',
		);
	for (const event of TEMPLATE_EVENTS) {
		command
			.option(`--${optionName(event)} <on|off>`, `send the ${event} template`, onOff)
			.option(
				`--${optionName(event)}-template <text>`,
				`the ${event} template text ({{customer_phone}}, {{agent_extension}}, {{queue}}, {{call_time}}, {{business_name}})`,
			);
	}
	return command.addOption(jsonOption());
}

function toInput(flags: SettingsFlags, hmacSecret: string | null | undefined): IntegrationInput {
	const templates: NonNullable<IntegrationInput['templates']> = {};
	for (const event of TEMPLATE_EVENTS) {
		const enabled = flags[flagKey(event)] as boolean | undefined;
		const text = flags[`${flagKey(event)}Template`] as string | undefined;
		if (enabled !== undefined || text !== undefined)
			templates[event] = { ...(enabled !== undefined && { enabled }), ...(text !== undefined && { text }) };
	}
	return {
		instance: flags.instance,
		name: flags.name,
		businessName: flags.businessName,
		hmacSecret,
		ipAllowlist: flags.allowIps === undefined ? undefined : flags.allowIps === 'any' ? null : flags.allowIps.split(','),
		enabled: flags.enabled,
		outboundEnabled: flags.outbound,
		callEventsEnabled: flags.callEvents,
		strictWindow: flags.strictWindow,
		windowHours: flags.windowHours,
		destinationUrl: flags.destinationUrl === 'none' ? null : flags.destinationUrl,
		destinationFormat: flags.destinationFormat,
		lineNumber: flags.lineNumber,
		templates: Object.keys(templates).length > 0 ? templates : undefined,
	};
}

function hmacFrom(flags: SettingsFlags): { value: string | null | undefined; generated: string | undefined } {
	if (flags.generateHmacSecret) {
		const generated = `tcxh_${randomBase62(40)}`;
		return { value: generated, generated };
	}
	return { value: flags.hmacSecret === 'none' ? null : flags.hmacSecret, generated: undefined };
}

/** `3cx`: the 3CX integrations (what 3CX posts to, with which secret, and what the events may send). */
export function threecxCommands(program: Command, { withGateway, emit, getConfig }: CliContext): void {
	const threecx = program.command('3cx').description('3CX integrations (the 3CX middleware)');
	const withUrls = (gateway: Gateway, id: number) => {
		const data = integrationJson(gateway.threecx.integrations.get(id));
		const base = getConfig().publicUrl;
		return { ...data, webhook_url: `${base}${data.webhook_path}`, generic_sms_url: `${base}${data.generic_sms_path}` };
	};

	settingsOptions(
		threecx
			.command('create')
			.description('create an integration for an account; prints its webhook secret once')
			.requiredOption('--account <id>', 'account id', wholeNumber),
	).action((flags: SettingsFlags & { account: number }) =>
		withGateway(async (gateway) => {
			if (!flags.instance) throw new InvalidArgumentError('--instance is required');
			const hmac = hmacFrom(flags);
			const { integration, secret } = await gateway.threecx.integrations.create(flags.account, {
				...toInput(flags, hmac.value),
				instance: flags.instance,
			});
			const data = {
				...withUrls(gateway, integration.id),
				secret,
				...(hmac.generated && { hmac_secret: hmac.generated }),
			};
			emit(flags.json, data, `${record(data)}\nThe secret${hmac.generated ? 's are' : ' is'} shown only this once.\n`);
		}),
	);

	threecx
		.command('list')
		.description('list integrations (no secrets)')
		.option('--account <id>', 'only this account', wholeNumber)
		.addOption(jsonOption())
		.action((flags: { account?: number; json?: boolean }) =>
			withGateway((gateway) => {
				const rows = gateway.threecx.integrations.list(flags.account).map(integrationJson);
				emit(
					flags.json,
					rows,
					table(rows, ['id', 'account_id', 'instance_id', 'name', 'enabled', 'hmac_enabled', 'destination_url']),
				);
			}),
		);

	threecx
		.command('show <id>')
		.description('one integration with its URLs and recent events')
		.addOption(jsonOption())
		.action((id: string, flags: { json?: boolean }) =>
			withGateway((gateway) => {
				const integration = withUrls(gateway, wholeNumber(id));
				const events = gateway.threecx.service.recentEvents(integration.id, 20).map(threecxEventJson);
				const data = { ...integration, recent_events: events };
				const { templates: byEvent, ...settings } = integration;
				const templates = TEMPLATE_EVENTS.map((event) => ({
					event,
					enabled: byEvent[event].enabled ? 'on' : 'off',
					text: byEvent[event].text,
				}));
				const human =
					`${record(settings)}\ntemplates:\n${table(templates, ['event', 'enabled', 'text'])}` +
					`\nrecent events:\n${table(events, ['created_at', 'event_type', 'status', 'action', 'reason', 'error', 'phone'])}`;
				emit(flags.json, data, human);
			}),
		);

	settingsOptions(threecx.command('update <id>').description('change an integration')).action(
		(id: string, flags: SettingsFlags) =>
			withGateway(async (gateway) => {
				const hmac = hmacFrom(flags);
				const integration = await gateway.threecx.integrations.update(wholeNumber(id), toInput(flags, hmac.value));
				const data = { ...withUrls(gateway, integration.id), ...(hmac.generated && { hmac_secret: hmac.generated }) };
				emit(
					flags.json,
					data,
					`${record(data)}${hmac.generated ? '\nThe HMAC secret is shown only this once.\n' : ''}`,
				);
			}),
	);

	threecx
		.command('rotate-secret <id>')
		.description('replace the webhook secret (the old one stops working at once); prints the new one once')
		.addOption(jsonOption())
		.action((id: string, flags: { json?: boolean }) =>
			withGateway((gateway) => {
				const { integration, secret } = gateway.threecx.integrations.rotateSecret(wholeNumber(id));
				const data = { ...withUrls(gateway, integration.id), secret };
				emit(flags.json, data, `${record(data)}\nThe secret is shown only this once.\n`);
			}),
		);

	threecx
		.command('delete <id>')
		.description('delete an integration, its event log and its forwarding')
		.addOption(jsonOption())
		.action((id: string, flags: { json?: boolean }) =>
			withGateway((gateway) => {
				gateway.threecx.integrations.delete(wholeNumber(id));
				emit(flags.json, { deleted: true, id: Number(id) }, 'deleted\n');
			}),
		);
}
