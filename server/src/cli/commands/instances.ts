import type { Command } from '@commander-js/extra-typings';
import { InputError } from '../../input-error';
import { operatorInstanceJson } from '../../instances/presenter';
import { suppressionJson } from '../../suppressions/presenter';
import { settingsFromPairs } from '../../providers/settings';
import { jsonOption, wholeNumber, type CliContext } from '../context';
import { record, table } from '../format';
import { collect, generatedSecrets, instanceProviderCommands, providerInstanceJson } from './instance-providers';

/** `instances` (create, list, pause, resume) and `suppressions` (recipients an account may not message). */
export function instanceCommands(program: Command, context: CliContext): void {
	const instances = program.command('instances').description('WhatsApp instances');
	createInstanceCommand(instances, context);
	listInstancesCommand(instances, context);
	pauseResumeCommands(instances, context);
	instanceProviderCommands(instances, context);
	suppressionCommands(program, context);
}

function createInstanceCommand(instances: Command, { withGateway, emit, getConfig }: CliContext): void {
	instances
		.command('create')
		.description('create an instance')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.requiredOption('--name <name>', 'unique name within the account, e.g. support-line')
		.option('--display-name <text>', 'name shown in events, e.g. "Support Line"')
		.option('--provider <name>', 'the WhatsApp connection: sandbox, evolution or cloud (default: GATEWAY_PROVIDER)')
		.option(
			'--setting <name=value>',
			'a provider setting, repeatable (docs/connect-whatsapp.md lists them)',
			collect,
			[],
		)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				gateway.accounts.get(flags.account);
				const provider = flags.provider ?? getConfig().provider;
				const instance = gateway.instances.create({
					accountId: flags.account,
					name: flags.name,
					displayName: flags.displayName,
					provider,
					// The sandbox is always connected; a real provider connects when it is paired.
					connectionState: provider === 'sandbox' ? 'connected' : 'disconnected',
					providerSettings: settingsFromPairs(flags.setting),
				});
				const generated = generatedSecrets(gateway, instance.id, flags.setting);
				const data = {
					...providerInstanceJson(gateway, instance),
					...(generated ? { generated_secrets: generated } : {}),
				};
				const note = generated
					? `\nShown once: set this verify token in Meta's dashboard with the webhook URL above.\n`
					: '';
				emit(flags.json, data, record(data) + note);
			}),
		);
}

function listInstancesCommand(instances: Command, { withGateway, emit }: CliContext): void {
	instances
		.command('list')
		.description('list instances')
		.option('--account <id>', 'only this account', wholeNumber)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const rows = gateway.instances.list(flags.account).map(operatorInstanceJson);
				emit(
					flags.json,
					rows,
					table(rows, ['id', 'account_id', 'name', 'provider', 'connection_state', 'paused', 'paused_reason']),
				);
			}),
		);
}

/** `instances pause|resume <instance>`. */
function pauseResumeCommands(instances: Command, { withGateway, emit }: CliContext): void {
	instances
		.command('pause <instance>')
		.description('pause an instance for review (sends answer instance_paused_for_review)')
		.option('--account <id>', 'account the instance name belongs to', wholeNumber)
		.option('--reason <text>', 'why', 'paused by operator')
		.addOption(jsonOption())
		.action((ref, flags) =>
			withGateway((gateway) => {
				const instance = gateway.instances.resolve(ref, flags.account);
				const data = operatorInstanceJson(gateway.instances.pause(instance.id, flags.reason));
				emit(flags.json, data, record(data));
			}),
		);
	instances
		.command('resume <instance>')
		.description('resume a paused instance')
		.option('--account <id>', 'account the instance name belongs to', wholeNumber)
		.addOption(jsonOption())
		.action((ref, flags) =>
			withGateway((gateway) => {
				const instance = gateway.instances.resolve(ref, flags.account);
				const data = operatorInstanceJson(gateway.instances.resume(instance.id));
				emit(flags.json, data, record(data));
			}),
		);
}

/** `suppressions add|remove|list`. */
function suppressionCommands(program: Command, { withGateway, emit }: CliContext): void {
	const suppressions = program.command('suppressions').description('recipients an account may not message');
	suppressions
		.command('add')
		.description('suppress a recipient (sends answer recipient_suppressed)')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.requiredOption('--phone <phone>', 'recipient, international format')
		.option('--reason <text>', 'why', 'suppressed by operator')
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const account = gateway.accounts.get(flags.account);
				const data = suppressionJson(
					gateway.suppressions.add(account.id, flags.phone, flags.reason, 'manual', account.defaultCountry),
				);
				emit(flags.json, data, record(data));
			}),
		);
	suppressions
		.command('remove')
		.description('lift a suppression')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.requiredOption('--phone <phone>', 'recipient, international format')
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const account = gateway.accounts.get(flags.account);
				const removed = gateway.suppressions.remove(account.id, flags.phone, account.defaultCountry);
				if (!removed) throw new InputError(`${flags.phone} is not suppressed for account ${account.id}`);
				emit(flags.json, { removed: true, account_id: account.id, phone: flags.phone }, 'removed\n');
			}),
		);
	suppressions
		.command('list')
		.description('list suppressed recipients')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const rows = gateway.suppressions.list(gateway.accounts.get(flags.account).id).map(suppressionJson);
				emit(flags.json, rows, table(rows, ['phone', 'source', 'reason', 'created_at']));
			}),
		);
}
