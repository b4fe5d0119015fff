import type { InboundService } from '../events/inbound';
import type { Instance, InstanceService, InstanceUpdate } from '../instances/service';
import type { ProviderRegistry } from './registry';
import type { ConnectResult, ConnectionState, InboundEvent } from './types';

/**
 * Connecting an instance to WhatsApp (the CLI's `instances connect`, the operator API): the provider
 * connects, and what it says (state, QR code) is recorded the same way as its webhooks, so the
 * instance.* events go out once whichever way the news arrives.
 */
export class InstanceConnector {
	constructor(
		private readonly providers: ProviderRegistry,
		private readonly instances: Pick<InstanceService, 'providerSettings' | 'providerTarget' | 'get' | 'update'>,
		private readonly inbound: Pick<InboundService, 'receive' | 'changeInstance'>,
	) {}

	async connect(instance: Instance): Promise<ConnectResult> {
		const result = await this.providers.get(instance.provider).connect(this.instances.providerTarget(instance));
		const reported: InboundEvent[] = [{ kind: 'connection', state: result.state }];
		if (result.qr) reported.push({ kind: 'qr', qrAvailable: true, code: result.qr, pairingCode: result.pairingCode });
		await this.inbound.receive(instance.id, reported);
		return result;
	}

	/**
	 * Changes an instance's display name or provider settings (the CLI's `instances update`, the operator
	 * API). A changed setting its connection depends on (Evolution's `baseUrl`, `instanceName`,
	 * `webhookToken`; the Cloud API's `phoneNumberId`, `graphUrl`) leaves it disconnected until it is
	 * connected again (its last QR code goes too: it pairs the old connection), in the same transaction as the
	 * change, with its instance.* events.
	 */
	async update(instance: Instance, change: InstanceUpdate): Promise<Instance> {
		const depends = this.providers.find(instance.provider)?.connectionSettings ?? [];
		await this.inbound.changeInstance(instance.id, () => {
			const before = this.instances.providerSettings(instance.id);
			this.instances.update(instance.id, change);
			const after = this.instances.providerSettings(instance.id);
			return depends.some((name) => before[name] !== after[name]) ? 'disconnected' : undefined;
		});
		return this.instances.get(instance.id);
	}

	/** Asks the provider for the state now and records it. */
	async refresh(instance: Instance): Promise<ConnectionState> {
		const state = await this.providers.get(instance.provider).connectionState(this.instances.providerTarget(instance));
		await this.inbound.receive(instance.id, [{ kind: 'connection', state }]);
		return state;
	}

	/**
	 * Polls until the instance is connected (a webhook may also have said so), every `intervalMs`, for at
	 * most `timeoutMs`. `onPoll` sees each state (the CLI prints changes).
	 */
	async waitUntilConnected(
		instance: Instance,
		options: {
			intervalMs: number;
			timeoutMs: number;
			sleep: (ms: number) => Promise<void>;
			now: () => number;
			onPoll?: (state: ConnectionState) => void;
		},
	): Promise<boolean> {
		const deadline = options.now() + options.timeoutMs;
		for (;;) {
			const state = await this.refresh(instance);
			options.onPoll?.(state);
			if (state === 'connected') return true;
			if (options.now() >= deadline) return false;
			await options.sleep(options.intervalMs);
		}
	}
}
