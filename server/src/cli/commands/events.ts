import type { Command } from '@commander-js/extra-typings';
import { deliveryJson, inboundResultJson, operatorWebhookJson, webhookJson } from '../../events/presenters';
import { DEFAULT_SECRET_OVERLAP_SECONDS, MAX_SECRET_OVERLAP_SECONDS } from '../../events/webhooks';
import { InputError } from '../../input-error';
import { jsonOption, wholeNumber, type CliContext } from '../context';
import { record, table } from '../format';

/** `webhooks` (signed event subscriptions), `deliveries` (the outbox) and `sandbox inbound` (a simulated WhatsApp user). */
export function eventCommands(program: Command, context: CliContext): void {
	const webhooks = program.command('webhooks').description('customer webhook subscriptions (signed event delivery)');
	createWebhookCommand(webhooks, context);
	listWebhooksCommand(webhooks, context);
	webhookStateCommands(webhooks, context);
	rotateSecretCommand(webhooks, context);
	const deliveries = program
		.command('deliveries')
		.description('the outbox: signed event deliveries and their attempts');
	listDeliveriesCommand(deliveries, context);
	redeliverCommand(deliveries, context);
	sandboxCommands(program, context);
}

function createWebhookCommand(webhooks: Command, { withGateway, emit }: CliContext): void {
	webhooks
		.command('create')
		.description('subscribe a URL to event types; prints the signing secret once')
		.requiredOption('--account <id>', 'account id', wholeNumber)
		.requiredOption('--url <url>', 'destination URL (http or https)')
		.requiredOption('--events <types>', 'comma-separated event types, e.g. message.received,recipient.opted_out')
		.option('--instance <instance>', 'only events of this instance (id or name)')
		.addOption(jsonOption())
		.action((flags) =>
			withGateway(async (gateway) => {
				gateway.accounts.get(flags.account);
				const { webhook, secret } = await gateway.webhooks.create({
					accountId: flags.account,
					destinationUrl: flags.url,
					events: flags.events
						.split(',')
						.map((type) => type.trim())
						.filter(Boolean),
					instanceId: flags.instance,
				});
				const data = { ...webhookJson(webhook), account_id: webhook.accountId, signing_secret: secret };
				emit(flags.json, data, `${record(data)}\nThe signing secret is shown only this once.\n`);
			}),
		);
}

function listWebhooksCommand(webhooks: Command, { withGateway, emit }: CliContext): void {
	webhooks
		.command('list')
		.description('list webhook subscriptions (no secrets)')
		.option('--account <id>', 'only this account', wholeNumber)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				const rows = gateway.webhooks.list(flags.account).map(operatorWebhookJson);
				emit(
					flags.json,
					rows,
					table(rows, [
						'id',
						'account_id',
						'destination_url',
						'events',
						'enabled',
						'disabled_reason',
						'managed_by',
						'health',
					]),
				);
			}),
		);
}

/** `webhooks enable|disable|delete <id>`. */
function webhookStateCommands(webhooks: Command, { withGateway, emit }: CliContext): void {
	for (const [verb, description] of [
		['enable', 'resume deliveries to a subscription'],
		['disable', 'stop deliveries to a subscription (pending ones fail)'],
	] as const) {
		webhooks
			.command(`${verb} <id>`)
			.description(description)
			.addOption(jsonOption())
			.action((id, flags) =>
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
		.action((id, flags) =>
			withGateway((gateway) => {
				gateway.webhooks.delete(id);
				emit(flags.json, { deleted: true, id }, 'deleted\n');
			}),
		);
}

function rotateSecretCommand(webhooks: Command, { withGateway, emit }: CliContext): void {
	webhooks
		.command('rotate-secret <id>')
		.description('a new signing secret, printed once; the old one keeps signing beside it for the overlap')
		.option(
			'--overlap <seconds>',
			`how long the old secret still signs (0 to ${MAX_SECRET_OVERLAP_SECONDS})`,
			wholeNumber,
			DEFAULT_SECRET_OVERLAP_SECONDS,
		)
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				const { webhook, secret } = gateway.webhooks.rotateSecret(id, flags.overlap);
				const data = { ...webhookJson(webhook), account_id: webhook.accountId, signing_secret: secret };
				const until = data.previous_secret_expires_at;
				const note = until ? `The old secret still signs until ${until}.` : 'The old secret no longer signs.';
				emit(flags.json, data, `${record(data)}\nThe new signing secret is shown only this once. ${note}\n`);
			}),
		);
}

function listDeliveriesCommand(deliveries: Command, { withGateway, emit }: CliContext): void {
	deliveries
		.command('list')
		.description('recent deliveries, newest first')
		.option('--account <id>', 'only this account', wholeNumber)
		.option('--webhook <id>', 'only this subscription')
		.option('--status <status>', 'pending, succeeded or failed')
		.option('--limit <n>', 'how many', wholeNumber, 50)
		.addOption(jsonOption())
		.action((flags) =>
			withGateway((gateway) => {
				if (flags.status && !['pending', 'succeeded', 'failed'].includes(flags.status)) {
					throw new InputError('--status must be pending, succeeded or failed');
				}
				const rows = gateway.webhooks
					.deliveries({ accountId: flags.account, webhookId: flags.webhook, status: flags.status, limit: flags.limit })
					.map(deliveryJson);
				emit(
					flags.json,
					rows,
					table(rows, [
						'id',
						'event_type',
						'webhook_id',
						'status',
						'attempts',
						'last_status_code',
						'next_attempt_at',
						'last_error',
					]),
				);
			}),
		);
}

function redeliverCommand(deliveries: Command, { withGateway, emit }: CliContext): void {
	deliveries
		.command('redeliver <id>')
		.description('send a delivery again (same event id), with a fresh retry schedule')
		.addOption(jsonOption())
		.action((id, flags) =>
			withGateway((gateway) => {
				const data = deliveryJson(gateway.webhooks.redeliver(wholeNumber(id)));
				emit(flags.json, data, record(data));
			}),
		);
}

/** `sandbox inbound`. */
function sandboxCommands(program: Command, { withGateway, emit }: CliContext): void {
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
		.action((flags) =>
			withGateway(async (gateway) => {
				const instance = gateway.instances.resolve(flags.instance, flags.account);
				// The same way in as POST /sandbox/inbound; the CLI works as the operator.
				const body = { instance: instance.id, from: flags.from, text: flags.text, id: flags.id };
				const result = await gateway.providerInbound.simulate(instance, body, JSON.stringify(body));
				const data = inboundResultJson(result);
				emit(flags.json, data, record(data));
			}),
		);
}
