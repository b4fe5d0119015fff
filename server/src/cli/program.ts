import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Config } from '../config';
import { Gateway } from '../gateway';
import { InputError } from '../input-error';
import type { RunningServer } from '../server';
import { startServer } from '../server';
import { VERSION } from '../version';
import { accountJson, instanceJson, keyJson, record, suppressionJson, table } from './format';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CliResult {
  code: number;
  /** Set by `serve`: the running server, kept alive by the caller. */
  server?: RunningServer;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** "plan" goes back to the plan's value (commander turns a parser's null into '', so it is kept as text). */
type OrPlan<T> = T | 'plan';

function numberOrPlan(value: string): OrPlan<number> {
  return value === 'plan' ? 'plan' : wholeNumber(value);
}

/** "on", "off", or "plan" to follow the plan's module setting. */
function onOffPlan(value: string): OrPlan<boolean> {
  if (value === 'on') return true;
  if (value === 'off') return false;
  if (value === 'plan') return 'plan';
  throw new InvalidArgumentError('must be on, off or plan');
}

/** undefined: not given; null: back to the plan's value. */
function planValue<T>(value: OrPlan<T> | undefined): T | null | undefined {
  return value === 'plan' ? null : value;
}

const jsonOption = () => new Option('--json', 'print one JSON document and nothing else');

/**
 * `whatsapp-gateway`: the operator CLI (ARCHITECTURE §8). Commands work on the database directly, so
 * they also work while the gateway runs (SQLite WAL allows it).
 */
export async function runCli(argv: string[], io: CliIo): Promise<CliResult> {
  let server: RunningServer | undefined;
  let config: Config | undefined;
  const getConfig = () => (config ??= loadConfig(io.env, io.cwd));

  const withGateway = async <T>(fn: (gateway: Gateway) => T | Promise<T>): Promise<T> => {
    const gateway = new Gateway({ databasePath: getConfig().databasePath });
    try {
      return await fn(gateway);
    } finally {
      gateway.close();
    }
  };
  const emit = (json: boolean | undefined, data: unknown, human: string) => {
    io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : human);
  };

  const program = new Command('whatsapp-gateway')
    .description('Run and manage a self-hosted WhatsApp Gateway.')
    .version(VERSION)
    .option('--data-dir <dir>', 'database folder (default: GATEWAY_DATA_DIR or ./data)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  program.hook('preAction', () => {
    const dataDir = program.opts<{ dataDir?: string }>().dataDir;
    if (dataDir) config = loadConfig({ ...io.env, GATEWAY_DATA_DIR: dataDir }, io.cwd);
  });

  program
    .command('serve')
    .description('start the gateway HTTP server')
    .action(async () => {
      server = await startServer(getConfig(), { print: io.stdout, handleSignals: true });
    });

  // ---- accounts ----
  const accounts = program.command('accounts').description('customer accounts, plans and limits');
  const accountChangeOptions = (command: Command) =>
    command
      .option('--plan <plan>', 'starter, growth or scale')
      .option('--time-zone <zone>', 'IANA time zone for daily and monthly quotas, e.g. Asia/Riyadh')
      .option('--country <code>', 'default country for national phone numbers, e.g. SA')
      .option('--daily-limit <n|plan>', 'reviewed custom daily limit, or "plan"', numberOrPlan)
      .option('--monthly-limit <n|plan>', 'reviewed custom monthly limit, or "plan"', numberOrPlan)
      .option('--instance-rate <n|plan>', 'sends per minute per instance, or "plan"', numberOrPlan)
      .option('--recipient-rate <n|plan>', 'sends per minute per recipient, or "plan"', numberOrPlan)
      .option('--api-access <on|off|plan>', 'API Access module override', onOffPlan)
      .option('--threecx <on|off|plan>', '3CX module override', onOffPlan);
  interface AccountFlags {
    name?: string;
    plan?: string;
    timeZone?: string;
    country?: string;
    dailyLimit?: OrPlan<number>;
    monthlyLimit?: OrPlan<number>;
    instanceRate?: OrPlan<number>;
    recipientRate?: OrPlan<number>;
    apiAccess?: OrPlan<boolean>;
    threecx?: OrPlan<boolean>;
    active?: boolean;
    json?: boolean;
  }
  const accountInput = (flags: AccountFlags) => ({
    name: flags.name,
    plan: flags.plan,
    planActive: flags.active,
    timeZone: flags.timeZone,
    defaultCountry: flags.country,
    dailyLimit: planValue(flags.dailyLimit),
    monthlyLimit: planValue(flags.monthlyLimit),
    instanceRatePerMinute: planValue(flags.instanceRate),
    recipientRatePerMinute: planValue(flags.recipientRate),
    apiAccess: planValue(flags.apiAccess),
    threecx: planValue(flags.threecx),
  });
  accountChangeOptions(
    accounts.command('create').description('create an account').requiredOption('--name <name>', 'account name'),
  )
    .addOption(jsonOption())
    .action((flags: AccountFlags & { name: string }) =>
      withGateway((gateway) => {
        const account = accountJson(gateway.accounts.create({ ...accountInput(flags), name: flags.name }));
        emit(flags.json, account, record(account));
      }),
    );
  accounts
    .command('list')
    .description('list accounts')
    .addOption(jsonOption())
    .action((flags: { json?: boolean }) =>
      withGateway((gateway) => {
        const rows = gateway.accounts.list().map(accountJson);
        emit(flags.json, rows, table(rows, ['id', 'name', 'plan', 'plan_active', 'time_zone', 'limits']));
      }),
    );
  accountChangeOptions(
    accounts
      .command('update <id>')
      .description('change an account')
      .option('--name <name>', 'account name')
      .option('--active', 'mark the plan active')
      .option('--inactive', 'mark the plan inactive (sends answer active_plan_required)'),
  )
    .addOption(jsonOption())
    .action((id: string, flags: AccountFlags & { inactive?: boolean }) =>
      withGateway((gateway) => {
        if (flags.active && flags.inactive) throw new InputError('--active and --inactive cannot be used together');
        const active = flags.inactive ? false : flags.active ? true : undefined;
        const account = accountJson(gateway.accounts.update(wholeNumber(id), { ...accountInput(flags), planActive: active }));
        emit(flags.json, account, record(account));
      }),
    );

  // ---- keys ----
  const keys = program.command('keys').description('API keys (shown once at creation, stored as a hash)');
  keys
    .command('create')
    .description('create an API key for an account')
    .requiredOption('--account <id>', 'account id', wholeNumber)
    .option('--name <name>', 'a label for the key', 'default')
    .addOption(jsonOption())
    .action((flags: { account: number; name: string; json?: boolean }) =>
      withGateway((gateway) => {
        const created = gateway.accounts.createKey(flags.account, flags.name);
        const data = { ...keyJson(created.info), key: created.key };
        emit(flags.json, data, `${record(data)}\nThe key is shown only this once.\n`);
      }),
    );
  keys
    .command('list')
    .description('list API keys (prefixes only)')
    .option('--account <id>', 'only this account', wholeNumber)
    .addOption(jsonOption())
    .action((flags: { account?: number; json?: boolean }) =>
      withGateway((gateway) => {
        const rows = gateway.accounts.listKeys(flags.account).map(keyJson);
        emit(flags.json, rows, table(rows, ['id', 'account_id', 'name', 'prefix', 'last_used_at', 'revoked_at']));
      }),
    );
  keys
    .command('revoke <id>')
    .description('revoke an API key; it answers revoked_api_key from the next request')
    .addOption(jsonOption())
    .action((id: string, flags: { json?: boolean }) =>
      withGateway((gateway) => {
        const data = keyJson(gateway.accounts.revokeKey(wholeNumber(id)));
        emit(flags.json, data, record(data));
      }),
    );

  // ---- instances ----
  const instances = program.command('instances').description('WhatsApp instances');
  instances
    .command('create')
    .description('create an instance (sandbox provider)')
    .requiredOption('--account <id>', 'account id', wholeNumber)
    .requiredOption('--name <name>', 'unique name within the account, e.g. support-line')
    .option('--display-name <text>', 'name shown in events, e.g. "Support Line"')
    .addOption(jsonOption())
    .action((flags: { account: number; name: string; displayName?: string; json?: boolean }) =>
      withGateway((gateway) => {
        gateway.accounts.get(flags.account);
        const data = instanceJson(
          gateway.instances.create({
            accountId: flags.account,
            name: flags.name,
            displayName: flags.displayName,
            provider: 'sandbox',
            connectionState: 'connected',
          }),
        );
        emit(flags.json, data, record(data));
      }),
    );
  instances
    .command('list')
    .description('list instances')
    .option('--account <id>', 'only this account', wholeNumber)
    .addOption(jsonOption())
    .action((flags: { account?: number; json?: boolean }) =>
      withGateway((gateway) => {
        const rows = gateway.instances.list(flags.account).map(instanceJson);
        emit(flags.json, rows, table(rows, ['id', 'account_id', 'name', 'provider', 'connection_state', 'paused', 'paused_reason']));
      }),
    );
  instances
    .command('pause <instance>')
    .description('pause an instance for review (sends answer instance_paused_for_review)')
    .option('--account <id>', 'account the instance name belongs to', wholeNumber)
    .option('--reason <text>', 'why', 'paused by operator')
    .addOption(jsonOption())
    .action((ref: string, flags: { account?: number; reason: string; json?: boolean }) =>
      withGateway((gateway) => {
        const instance = gateway.instances.resolve(ref, flags.account);
        const data = instanceJson(gateway.instances.pause(instance.id, flags.reason));
        emit(flags.json, data, record(data));
      }),
    );
  instances
    .command('resume <instance>')
    .description('resume a paused instance')
    .option('--account <id>', 'account the instance name belongs to', wholeNumber)
    .addOption(jsonOption())
    .action((ref: string, flags: { account?: number; json?: boolean }) =>
      withGateway((gateway) => {
        const instance = gateway.instances.resolve(ref, flags.account);
        const data = instanceJson(gateway.instances.resume(instance.id));
        emit(flags.json, data, record(data));
      }),
    );

  // ---- suppressions ----
  const suppressions = program.command('suppressions').description('recipients an account may not message');
  suppressions
    .command('add')
    .description('suppress a recipient (sends answer recipient_suppressed)')
    .requiredOption('--account <id>', 'account id', wholeNumber)
    .requiredOption('--phone <phone>', 'recipient, international format')
    .option('--reason <text>', 'why', 'suppressed by operator')
    .addOption(jsonOption())
    .action((flags: { account: number; phone: string; reason: string; json?: boolean }) =>
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
    .action((flags: { account: number; phone: string; json?: boolean }) =>
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
    .action((flags: { account: number; json?: boolean }) =>
      withGateway((gateway) => {
        const rows = gateway.suppressions.list(gateway.accounts.get(flags.account).id).map(suppressionJson);
        emit(flags.json, rows, table(rows, ['phone', 'source', 'reason', 'created_at']));
      }),
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: 0, server };
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version print to stdout and exit 0; usage errors were already written by commander.
      return { code: error.exitCode === 0 ? 0 : 2 };
    }
    io.stderr(`whatsapp-gateway: ${oneLine(error)}\n`);
    return { code: 1 };
  }
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}
