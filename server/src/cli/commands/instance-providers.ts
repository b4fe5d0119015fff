import type { Command } from '@commander-js/extra-typings';
import { systemClock } from '../../clock';
import type { Gateway } from '../../gateway';
import type { Instance } from '../../instances/service';
import type { ConnectionState } from '../../providers/types';
import { operatorInstanceJson } from '../../instances/presenter';
import { settingsFromPairs } from '../../providers/settings';
import { jsonOption, wholeNumber, type CliContext } from '../context';
import { record } from '../format';

/** commander's way to repeat an option. */
export const collect = (value: string, previous: string[]) => [...previous, value];

/** An instance for the operator, with the names (never the values) of its provider settings and its webhook URL. */
export function providerInstanceJson(gateway: Gateway, instance: Instance) {
	return {
		...operatorInstanceJson(instance),
		settings_set: gateway.instances.settingNames(instance.id),
		webhook_url: gateway.webhookUrl(instance) ?? null,
	};
}

/** A Cloud API verify token the gateway generated (not given): shown once, at creation. */
export function generatedSecrets(
	gateway: Gateway,
	instanceId: string,
	given: string[],
): { verifyToken: string } | undefined {
	const settings = gateway.instances.providerSettings(instanceId);
	const named = given.some((pair) => pair.startsWith('verifyToken='));
	return typeof settings.verifyToken === 'string' && !named ? { verifyToken: settings.verifyToken } : undefined;
}

/** `instances update` and `instances connect`: an instance's provider settings and its link to WhatsApp. */
export function instanceProviderCommands(instances: Command, context: CliContext): void {
	updateInstanceCommand(instances, context);
	connectInstanceCommand(instances, context);
}

function updateInstanceCommand(instances: Command, { withGateway, emit }: CliContext): void {
	instances
		.command('update <instance>')
		.description('change an instance: display name, provider settings (secrets are never printed)')
		.option('--account <id>', 'account the instance name belongs to', wholeNumber)
		.option('--display-name <text>', 'name shown in events')
		.option('--setting <name=value>', 'a provider setting, repeatable; name= removes it', collect, [])
		.addOption(jsonOption())
		.action((ref, flags) =>
			withGateway(async (gateway) => {
				const instance = gateway.instances.resolve(ref, flags.account);
				const updated = await gateway.connector.update(instance, {
					displayName: flags.displayName,
					providerSettings: flags.setting.length > 0 ? settingsFromPairs(flags.setting) : undefined,
				});
				const data = providerInstanceJson(gateway, updated);
				emit(flags.json, data, record(data));
			}),
		);
}

function connectInstanceCommand(instances: Command, context: CliContext): void {
	const { withGateway, emit } = context;
	instances
		.command('connect <instance>')
		.description('connect an instance to WhatsApp: shows the QR code (and pairing code) and waits until connected')
		.option('--account <id>', 'account the instance name belongs to', wholeNumber)
		.option('--timeout <seconds>', 'how long to wait for the scan', wholeNumber, 300)
		.option('--interval-ms <ms>', 'how often to ask the provider', wholeNumber, 2000)
		.addOption(jsonOption())
		.action((ref, flags) =>
			withGateway(async (gateway) => {
				const instance = gateway.instances.resolve(ref, flags.account);
				const wait = { intervalMs: flags.intervalMs, timeoutMs: flags.timeout * 1000 };
				const { connected, lastState } = await connectAndWait(gateway, instance, wait, flags.json, context);
				const data = { ...providerInstanceJson(gateway, gateway.instances.get(instance.id)), connected };
				if (!connected)
					throw new Error(
						`instance ${instance.name} is not connected after ${flags.timeout} s (state: ${lastState}); run connect again for a new QR code`,
					);
				emit(flags.json, data, `${instance.name} is connected to WhatsApp.\n`);
			}),
		);
}

/** Asks the provider to connect, shows each QR code it reports and polls until connected or out of time. */
async function connectAndWait(
	gateway: Gateway,
	instance: Instance,
	wait: { intervalMs: number; timeoutMs: number },
	json: boolean | undefined,
	{ progress, sleep }: CliContext,
): Promise<{ connected: boolean; lastState: ConnectionState }> {
	const result = await gateway.connector.connect(instance);
	let shownQr: string | undefined;
	const showQr = async (code: string, pairingCode?: string) => {
		shownQr = code;
		// Loaded here, not with the CLI: `serve` starts from the same program and never draws one.
		const { default: QRCode } = await import('qrcode');
		const art = await QRCode.toString(code, { type: 'terminal', small: true });
		const pairing = pairingCode ? `Or enter this pairing code on the phone: ${pairingCode}\n` : '';
		progress(json, `\nScan with WhatsApp on the phone (Settings > Linked devices > Link a device):\n${art}${pairing}`);
	};
	if (result.qr) await showQr(result.qr, result.pairingCode);
	let lastState = result.state;
	const connected =
		result.state === 'connected' ||
		(await gateway.connector.waitUntilConnected(instance, {
			...wait,
			sleep,
			now: () => systemClock.now(),
			onPoll: (state) => {
				if (state !== lastState) progress(json, `connection: ${state}\n`);
				lastState = state;
				// A running gateway stores each new QR code its provider reports (they expire): show the new one.
				const stored = gateway.instances.qr(instance.id);
				if (state !== 'connected' && stored && stored.code !== shownQr) void showQr(stored.code);
			},
		}));
	return { connected, lastState };
}
