import type { InboundResult, InboundService } from '../events/inbound';
import { ApiError } from '../http/errors';
import { InputError } from '../input-error';
import type { Instance, InstanceService } from '../instances/service';
import type { ProviderRegistry } from './registry';
import type { InboundRequest } from './types';

/**
 * The way in for everything a provider reports about an instance: the instance's provider authenticates
 * the request (over the raw body, before anything is parsed), parses it into normalized events, and the
 * inbound service stores them and records their events. The provider routes and the CLI's simulated
 * sandbox messages both come through here.
 */
export class ProviderInbound {
	constructor(
		private readonly providers: ProviderRegistry,
		private readonly instances: Pick<InstanceService, 'providerTarget'>,
		private readonly inbound: Pick<InboundService, 'receive'>,
	) {}

	/** A WhatsApp user's message simulated by the operator on a sandbox instance (`/sandbox/inbound`, the CLI). */
	simulate(
		instance: Instance,
		body: unknown,
		rawBody: string,
		headers: InboundRequest['headers'] = {},
	): Promise<InboundResult> {
		if (instance.provider !== 'sandbox')
			throw new InputError(`instance "${instance.name}" does not use the sandbox provider`);
		return this.accept(instance, { headers, rawBody, operator: true }, () => body);
	}

	/** `readBody` is called only once the request is verified: nothing unverified is parsed. */
	async accept(instance: Instance, request: InboundRequest, readBody: () => unknown): Promise<InboundResult> {
		const provider = this.providers.get(instance.provider);
		const target = this.instances.providerTarget(instance);
		if (!provider.verifyInbound(request, target))
			throw new ApiError('invalid_provider_webhook', { provider: provider.name });
		return this.inbound.receive(instance.id, provider.parseInbound(readBody(), target));
	}
}
