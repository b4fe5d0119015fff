import { InvalidArgumentError, type Command, type OptionValues } from '@commander-js/extra-typings';
import type { Gateway } from '../../gateway';
import type { IntegrationInput } from '../../threecx/integrations';
import { randomBase62 } from '../../accounts/keys';
import { integrationJson, rateLimitedJson, threecxEventJson } from '../../threecx/presenter';
import { TEMPLATE_EVENTS } from '../../threecx/templates';
import { jsonOption, wholeNumber, type CliContext, type FlagsOf, type NoFlags } from '../context';
import { record, table } from '../format';

function onOff(value: string): boolean {
	if (value === 'on') return true;
	if (value === 'off') return false;
	throw new InvalidArgumentError('must be on or off');
}

/** "missed_call" → "missed-call" (the option) and "missedCall" (commander's key). */
const optionName = (event: string) => event.replace(/_/g, '-');
const flagKey = (event: string) => event.replace(/_(\w)/g, (_all, letter: string) => letter.toUpperCase());

/** The settings both `create` and `update` take. */
function settingsOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
	command: Command<Args, Opts, Globals>,
) {
	const settings = command
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
	// One pair per template event, named at run time: templatesFrom reads them back by name.
	for (const event of TEMPLATE_EVENTS) {
		settings
			.option(`--${optionName(event)} <on|off>`, `send the ${event} template`, onOff)
			.option(
				`--${optionName(event)}-template <text>`,
				`the ${event} template text ({{customer_phone}}, {{agent_extension}}, {{queue}}, {{call_time}}, {{business_name}})`,
			);
	}
	return settings.addOption(jsonOption());
}

type SettingsFlags = FlagsOf<ReturnType<typeof settingsOptions<[], NoFlags, NoFlags>>>;

/** The per-event template options (--missed-call, --missed-call-template, …) that were given. */
function templatesFrom(flags: OptionValues): IntegrationInput['templates'] {
	const templates: NonNullable<IntegrationInput['templates']> = {};
	for (const event of TEMPLATE_EVENTS) {
		const enabled = flags[flagKey(event)] as boolean | undefined;
		const text = flags[`${flagKey(event)}Template`] as string | undefined;
		if (enabled !== undefined || text !== undefined)
			templates[event] = { ...(enabled !== undefined && { enabled }), ...(text !== undefined && { text }) };
	}
	return Object.keys(templates).length > 0 ? templates : undefined;
}

function toInput(flags: SettingsFlags, hmacSecret: string | null | undefined): IntegrationInput {
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
		templates: templatesFrom(flags),
	};
}

function hmacFrom(flags: SettingsFlags): { value: string | null | undefined; generated: string | undefined } {
	if (flags.generateHmacSecret) {
		const generated = `tcxh_${randomBase62(40)}`;
		return { value: generated, generated };
	}
	return { value: flags.hmacSecret === 'none' ? null : flags.hmacSecret, generated: undefined };
}

/** An integration with the URLs 3CX posts to, under the gateway's public URL. */
function withUrls(gateway: Gateway, { getConfig }: CliContext, id: number) {
	const data = integrationJson(gateway.threecx.integrations.get(id));
	const base = getConfig().publicUrl;
	return { ...data, webhook_url: `${base}${data.webhook_path}`, generic_sms_url: `${base}${data.generic_sms_path}` };
}

/** `3cx`: the 3CX integrations (what 3CX posts to, with which secret, and what the events may send). */
export function threecxCommands(program: Command, context: CliContext): void {
	const threecx = program.command('3cx').description('3CX integrations (the 3CX middleware)');
	createIntegrationCommand(threecx, context);
	listIntegrationsCommand(threecx, context);
	showIntegrationCommand(threecx, context);
	updateIntegrationCommand(threecx, context);
	integrationSecretAndDeleteCommands(threecx, context);
}

function createIntegrationCommand(threecx: Command, context: CliContext): void {
	const { withGateway, emit } = context;
	settingsOptions(
		threecx
			.command('create')
			.description('create an integration for an account; prints its webhook secret once')
			.requiredOption('--account <id>', 'account id', wholeNumber),
	).action((flags) =>
		withGateway(async (gateway) => {
			if (!flags.instance) throw new InvalidArgumentError('--instance is required');
			const hmac = hmacFrom(flags);
			const { integration, secret } = await gateway.threecx.integrations.create(flags.account, {
				...toInput(flags, hmac.value),
				instance: flags.instance,
			});
			const data = {
				...withUrls(gateway, context, integration.id),
				secret,
				...(hmac.generated && { hmac_secret: hmac.generated }),
			};
			emit(flags.json, data, `${record(data)}\nThe secret${hmac.generated ? 's are' : ' is'} shown only this once.\n`);
		}),
	);
}

function listIntegrationsCommand(threecx: Command, { withGateway, emit }: CliContext): void {
	threecx
		.command('list')
		.description('list integrations (no secrets)')
		.option('--account <id>', 'only this account', wholeNumber)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const rows = gateway.threecx.integrations.list(flags.account).map(integrationJson);
				emit(
					flags.json,
					rows,
					table(rows, ['id', 'account_id', 'instance_id', 'name', 'enabled', 'hmac_enabled', 'destination_url']),
				);
			}),
		);
}

function showIntegrationCommand(threecx: Command, context: CliContext): void {
	const { withGateway, emit } = context;
	threecx
		.command('show <id>')
		.description('one integration with its URLs and recent events')
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				const integration = withUrls(gateway, context, wholeNumber(id));
				const events = gateway.threecx.service.recentEvents(integration.id, 20).map(threecxEventJson);
				const rateLimited = rateLimitedJson(gateway.threecx.service.rateLimited(integration.id));
				const data = { ...integration, rate_limited: rateLimited, recent_events: events };
				const { templates: byEvent, ...settings } = integration;
				const templates = TEMPLATE_EVENTS.map((event) => ({
					event,
					enabled: byEvent[event].enabled ? 'on' : 'off',
					text: byEvent[event].text,
				}));
				const human =
					`${record(settings)}\nrate limited (429, ${rateLimited.limit_per_minute} requests a minute = ${rateLimited.limit_per_minute / 2} calls):\n` +
					`${record({ last_hour: rateLimited.last_hour, last_24_hours: rateLimited.last_24_hours, last_at: rateLimited.last_at })}` +
					`\ntemplates:\n${table(templates, ['event', 'enabled', 'text'])}` +
					`\nrecent events:\n${table(events, ['created_at', 'event_type', 'status', 'action', 'reason', 'error', 'phone'])}`;
				emit(flags.json, data, human);
			}),
		);
}

function updateIntegrationCommand(threecx: Command, context: CliContext): void {
	const { withGateway, emit } = context;
	settingsOptions(threecx.command('update <id>').description('change an integration')).action((id, flags) =>
		withGateway(async (gateway) => {
			const hmac = hmacFrom(flags);
			const integration = await gateway.threecx.integrations.update(wholeNumber(id), toInput(flags, hmac.value));
			const data = {
				...withUrls(gateway, context, integration.id),
				...(hmac.generated && { hmac_secret: hmac.generated }),
			};
			emit(flags.json, data, `${record(data)}${hmac.generated ? '\nThe HMAC secret is shown only this once.\n' : ''}`);
		}),
	);
}

/** `3cx rotate-secret <id>` and `3cx delete <id>`. */
function integrationSecretAndDeleteCommands(threecx: Command, context: CliContext): void {
	const { withGateway, emit } = context;
	threecx
		.command('rotate-secret <id>')
		.description('replace the webhook secret (the old one stops working at once); prints the new one once')
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				const { integration, secret } = gateway.threecx.integrations.rotateSecret(wholeNumber(id));
				const data = { ...withUrls(gateway, context, integration.id), secret };
				emit(flags.json, data, `${record(data)}\nThe secret is shown only this once.\n`);
			}),
		);
	threecx
		.command('delete <id>')
		.description('delete an integration, its event log and its forwarding')
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				gateway.threecx.integrations.delete(wholeNumber(id));
				emit(flags.json, { deleted: true, id: Number(id) }, 'deleted\n');
			}),
		);
}
