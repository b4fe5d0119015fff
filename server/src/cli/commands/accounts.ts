import type { Command, OptionValues } from '@commander-js/extra-typings';
import { accountJson, keyJson } from '../../accounts/presenters';
import { iso } from '../../common/iso';
import type { Gateway } from '../../gateway';
import { InputError } from '../../input-error';
import {
	jsonOption,
	numberOrPlan,
	onOffPlan,
	planValue,
	wholeNumber,
	type CliContext,
	type FlagsOf,
	type NoFlags,
} from '../context';
import { record, table } from '../format';

/** The settings both `accounts create` and `accounts update` take. */
function accountChangeOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
	command: Command<Args, Opts, Globals>,
) {
	return command
		.option('--plan <plan>', 'starter, growth or scale')
		.option('--time-zone <zone>', 'IANA time zone for daily and monthly quotas, e.g. Asia/Riyadh')
		.option('--country <code>', 'default country for national phone numbers, e.g. SA')
		.option('--daily-limit <n|plan>', 'reviewed custom daily limit, or "plan"', numberOrPlan)
		.option('--monthly-limit <n|plan>', 'reviewed custom monthly limit, or "plan"', numberOrPlan)
		.option('--instance-rate <n|plan>', 'sends per minute per instance, or "plan"', numberOrPlan)
		.option('--recipient-rate <n|plan>', 'sends per minute per recipient, or "plan"', numberOrPlan)
		.option('--webhook-limit <n|plan>', 'reviewed limit of customer webhook subscriptions, or "plan"', numberOrPlan)
		.option('--api-access <on|off|plan>', 'API Access module override', onOffPlan)
		.option('--threecx <on|off|plan>', '3CX module override', onOffPlan)
		.option('--opt-out-keywords <list|default>', 'comma-separated whole-message opt-out keywords, or "default"')
		.option('--opt-in-keywords <list|default>', 'comma-separated opt-in keywords, or "default"');
}

type AccountChangeFlags = FlagsOf<ReturnType<typeof accountChangeOptions<[], NoFlags, NoFlags>>>;

/** The account settings of the flags; the name and the plan's active state are the command's own. */
const accountInput = (flags: AccountChangeFlags) => ({
	plan: flags.plan,
	timeZone: flags.timeZone,
	defaultCountry: flags.country,
	dailyLimit: planValue(flags.dailyLimit),
	monthlyLimit: planValue(flags.monthlyLimit),
	instanceRatePerMinute: planValue(flags.instanceRate),
	recipientRatePerMinute: planValue(flags.recipientRate),
	webhookLimit: planValue(flags.webhookLimit),
	apiAccess: planValue(flags.apiAccess),
	threecx: planValue(flags.threecx),
});

/** `accounts` (plans, limits, modules, keyword lists) and `keys` (API keys, shown once). */
export function accountCommands(program: Command, context: CliContext): void {
	const accounts = program.command('accounts').description('customer accounts, plans and limits');
	createAccountCommand(accounts, context);
	listAccountsCommand(accounts, context);
	updateAccountCommand(accounts, context);
	keyCommands(program, context);
}

function createAccountCommand(accounts: Command, { withGateway, emit }: CliContext): void {
	accountChangeOptions(
		accounts.command('create').description('create an account').requiredOption('--name <name>', 'account name'),
	)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const created = gateway.accounts.create({ ...accountInput(flags), name: flags.name });
				const account = { ...accountJson(created), keywords: applyKeywords(gateway, created.id, flags) };
				emit(flags.json, account, record(account));
			}),
		);
}

function listAccountsCommand(accounts: Command, { withGateway, emit }: CliContext): void {
	accounts
		.command('list')
		.description('list accounts')
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const rows = gateway.accounts.list().map(accountJson);
				emit(flags.json, rows, table(rows, ['id', 'name', 'plan', 'plan_active', 'time_zone', 'limits']));
			}),
		);
}

function updateAccountCommand(accounts: Command, { withGateway, emit }: CliContext): void {
	accountChangeOptions(
		accounts
			.command('update <id>')
			.description('change an account')
			.option('--name <name>', 'account name')
			.option('--active', 'mark the plan active')
			.option('--inactive', 'mark the plan inactive (sends answer active_plan_required)'),
	)
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				if (flags.active && flags.inactive) throw new InputError('--active and --inactive cannot be used together');
				const active = flags.inactive ? false : flags.active ? true : undefined;
				const updated = gateway.accounts.update(wholeNumber(id), {
					...accountInput(flags),
					name: flags.name,
					planActive: active,
				});
				const account = { ...accountJson(updated), keywords: applyKeywords(gateway, updated.id, flags) };
				emit(flags.json, account, record(account));
			}),
		);
}

/** `keys create|list|revoke`. */
function keyCommands(program: Command, { withGateway, emit }: CliContext): void {
	const keys = program.command('keys').description('API keys (shown once at creation, stored as a hash)');
	keys
		.command('create')
		.description('create an API key for an account')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.option('--name <name>', 'a label for the key', 'default')
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const created = gateway.accounts.createKey(flags.account, flags.name);
				const data = { ...keyJson(created.info), key: created.key };
				emit(flags.json, data, `${record(data)}\nThe key is shown only this once.\n`);
			}),
		);
	keys
		.command('list')
		.description('list API keys (prefixes only), with the refusals counted past their log budget')
		.option('--account <id>', 'only this account', wholeNumber)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const refused = gateway.messaging.refusedAttempts();
				const rows = gateway.accounts.listKeys(flags.account).map((key) => ({
					...keyJson(key),
					refused_attempts: refused.get(key.id)?.count ?? 0,
					last_refused_attempt_at: iso(refused.get(key.id)?.lastAt ?? null),
				}));
				emit(
					flags.json,
					rows,
					table(rows, ['id', 'account_id', 'name', 'prefix', 'last_used_at', 'revoked_at', 'refused_attempts']),
				);
			}),
		);
	keys
		.command('revoke <id>')
		.description('revoke an API key; it answers revoked_api_key from the next request')
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				const data = keyJson(gateway.accounts.revokeKey(wholeNumber(id)));
				emit(flags.json, data, record(data));
			}),
		);
}

/** --opt-out-keywords / --opt-in-keywords: a list, "default", or absent (unchanged). */
function applyKeywords(gateway: Gateway, accountId: number, flags: AccountChangeFlags) {
	const parse = (value: string | undefined, current: string[]) =>
		value === undefined ? current : value === 'default' ? null : value.split(',');
	if (flags.optOutKeywords !== undefined || flags.optInKeywords !== undefined) {
		const lists = gateway.inbound.keywordLists(accountId);
		const stored = gateway.inbound.setKeywordLists(
			accountId,
			parse(flags.optOutKeywords, lists.optOut),
			parse(flags.optInKeywords, lists.optIn),
		);
		return { opt_out: stored.optOut, opt_in: stored.optIn };
	}
	const lists = gateway.inbound.keywordLists(accountId);
	return { opt_out: lists.optOut, opt_in: lists.optIn };
}
