import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Config } from '../config';
import { Gateway } from '../gateway';
import { InputError } from '../input-error';
import type { RunningServer } from '../server';
import { startServer } from '../server';
import { VERSION } from '../version';
import { webhookJson } from '../events/routes';
import { SandboxProvider } from '../providers/sandbox';
import { accountJson, deliveryJson, instanceJson, keyJson, record, suppressionJson, table } from './format';

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
    // The same destination rules as the API (GATEWAY_WEBHOOK_BLOCK_PRIVATE) for `webhooks create`.
    const gateway = new Gateway({ databasePath: getConfig().databasePath, delivery: { allowPrivate: getConfig().webhooks.allowPrivate } });
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
      .option('--webhook-limit <n|plan>', 'reviewed limit of customer webhook subscriptions, or "plan"', numberOrPlan)
      .option('--api-access <on|off|plan>', 'API Access module override', onOffPlan)
      .option('--threecx <on|off|plan>', '3CX module override', onOffPlan)
      .option('--opt-out-keywords <list|default>', 'comma-separated whole-message opt-out keywords, or "default"')
      .option('--opt-in-keywords <list|default>', 'comma-separated opt-in keywords, or "default"');
  interface AccountFlags {
    name?: string;
    plan?: string;
    timeZone?: string;
    country?: string;
    dailyLimit?: OrPlan<number>;
    monthlyLimit?: OrPlan<number>;
    instanceRate?: OrPlan<number>;
    recipientRate?: OrPlan<number>;
    webhookLimit?: OrPlan<number>;
    apiAccess?: OrPlan<boolean>;
    threecx?: OrPlan<boolean>;
    optOutKeywords?: string;
    optInKeywords?: string;
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
    webhookLimit: planValue(flags.webhookLimit),
    apiAccess: planValue(flags.apiAccess),
    threecx: planValue(flags.threecx),
  });
  accountChangeOptions(
    accounts.command('create').description('create an account').requiredOption('--name <name>', 'account name'),
  )
    .addOption(jsonOption())
    .action((flags: AccountFlags & { name: string }) =>
      withGateway((gateway) => {
        const created = gateway.accounts.create({ ...accountInput(flags), name: flags.name });
        const account = { ...accountJson(created), keywords: applyKeywords(gateway, created.id, flags) };
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
        const updated = gateway.accounts.update(wholeNumber(id), { ...accountInput(flags), planActive: active });
        const account = { ...accountJson(updated), keywords: applyKeywords(gateway, updated.id, flags) };
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

  // ---- webhooks ----
  const webhooks = program.command('webhooks').description('customer webhook subscriptions (signed event delivery)');
  webhooks
    .command('create')
    .description('subscribe a URL to event types; prints the signing secret once')
    .requiredOption('--account <id>', 'account id', wholeNumber)
    .requiredOption('--url <url>', 'destination URL (http or https)')
    .requiredOption('--events <types>', 'comma-separated event types, e.g. message.received,recipient.opted_out')
    .option('--instance <instance>', 'only events of this instance (id or name)')
    .addOption(jsonOption())
    .action((flags: { account: number; url: string; events: string; instance?: string; json?: boolean }) =>
      withGateway(async (gateway) => {
        const account = gateway.accounts.get(flags.account);
        const { webhook, secret } = await gateway.webhooks.create({
          limit: account.webhookLimit.limit,
          accountId: flags.account,
          destinationUrl: flags.url,
          events: flags.events.split(',').map((type) => type.trim()).filter(Boolean),
          instanceId: flags.instance,
        });
        const data = { ...webhookJson(webhook), account_id: webhook.accountId, signing_secret: secret };
        emit(flags.json, data, `${record(data)}\nThe signing secret is shown only this once.\n`);
      }),
    );
  webhooks
    .command('list')
    .description('list webhook subscriptions (no secrets)')
    .option('--account <id>', 'only this account', wholeNumber)
    .addOption(jsonOption())
    .action((flags: { account?: number; json?: boolean }) =>
      withGateway((gateway) => {
        const rows = gateway.webhooks.list(flags.account).map((webhook) => ({ ...webhookJson(webhook), account_id: webhook.accountId }));
        emit(flags.json, rows, table(rows, ['id', 'account_id', 'destination_url', 'events', 'enabled', 'disabled_reason', 'health']));
      }),
    );
  for (const [verb, description] of [
    ['enable', 'resume deliveries to a subscription'],
    ['disable', 'stop deliveries to a subscription (pending ones fail)'],
  ] as const) {
    webhooks
      .command(`${verb} <id>`)
      .description(description)
      .addOption(jsonOption())
      .action((id: string, flags: { json?: boolean }) =>
        withGateway((gateway) => {
          const webhook = gateway.webhooks.setEnabled(id, verb === 'enable');
          const data = { ...webhookJson(webhook), account_id: webhook.accountId };
          emit(flags.json, data, record(data));
        }),
      );
  }
  webhooks
    .command('delete <id>')
    .description('delete a subscription and its deliveries')
    .addOption(jsonOption())
    .action((id: string, flags: { json?: boolean }) =>
      withGateway((gateway) => {
        gateway.webhooks.delete(id);
        emit(flags.json, { deleted: true, id }, 'deleted\n');
      }),
    );

  // ---- deliveries ----
  const deliveries = program.command('deliveries').description('the outbox: signed event deliveries and their attempts');
  deliveries
    .command('list')
    .description('recent deliveries, newest first')
    .option('--account <id>', 'only this account', wholeNumber)
    .option('--webhook <id>', 'only this subscription')
    .option('--status <status>', 'pending, succeeded or failed')
    .option('--limit <n>', 'how many', wholeNumber, 50)
    .addOption(jsonOption())
    .action((flags: { account?: number; webhook?: string; status?: string; limit: number; json?: boolean }) =>
      withGateway((gateway) => {
        if (flags.status && !['pending', 'succeeded', 'failed'].includes(flags.status)) {
          throw new InputError('--status must be pending, succeeded or failed');
        }
        const rows = gateway.webhooks
          .deliveries({ accountId: flags.account, webhookId: flags.webhook, status: flags.status, limit: flags.limit })
          .map(deliveryJson);
        emit(flags.json, rows, table(rows, ['id', 'event_type', 'webhook_id', 'status', 'attempts', 'last_status_code', 'next_attempt_at', 'last_error']));
      }),
    );
  deliveries
    .command('redeliver <id>')
    .description('send a delivery again (same event id), with a fresh retry schedule')
    .addOption(jsonOption())
    .action((id: string, flags: { json?: boolean }) =>
      withGateway((gateway) => {
        const data = deliveryJson({ ...gateway.webhooks.redeliver(wholeNumber(id)), event_type: undefined });
        emit(flags.json, data, record(data));
      }),
    );

  // ---- sandbox ----
  const sandbox = program.command('sandbox').description('the embedded sandbox provider');
  sandbox
    .command('inbound')
    .description('simulate a WhatsApp user writing to a sandbox instance')
    .requiredOption('--instance <instance>', 'instance id or name')
    .requiredOption('--from <phone>', 'the sender, international format')
    .requiredOption('--text <text>', 'the message')
    .option('--id <id>', 'provider message id (repeat one to see deduplication)')
    .option('--account <id>', 'account the instance name belongs to', wholeNumber)
    .addOption(jsonOption())
    .action((flags: { instance: string; from: string; text: string; id?: string; account?: number; json?: boolean }) =>
      withGateway((gateway) => {
        const instance = gateway.instances.resolve(flags.instance, flags.account);
        if (instance.provider !== 'sandbox') throw new InputError(`instance "${instance.name}" does not use the sandbox provider`);
        const result = gateway.inbound.receiveMessage({
          instanceId: instance.id,
          providerMessageId: flags.id ?? SandboxProvider.inboundMessageId(),
          from: flags.from,
          text: flags.text,
        });
        const data = {
          duplicate: result.duplicate,
          inbound_id: result.inboundId ?? null,
          keyword_action: result.keywordAction ?? null,
          event_ids: result.eventIds,
        };
        emit(flags.json, data, record(data));
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

/** --opt-out-keywords / --opt-in-keywords: a list, "default", or absent (unchanged). */
function applyKeywords(gateway: Gateway, accountId: number, flags: { optOutKeywords?: string; optInKeywords?: string }) {
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

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}
