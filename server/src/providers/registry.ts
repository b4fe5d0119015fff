import type { ProviderName } from './defaults';
import { ProviderError, type Provider, type ProviderSettings } from './types';

/**
 * The providers this gateway can send through, by name. Each instance names its provider; an instance
 * whose provider is not registered here cannot send (502, nothing leaves the gateway).
 */
export class ProviderRegistry {
	private readonly byName = new Map<string, Provider>();

	constructor(providers: Provider[]) {
		for (const provider of providers) this.byName.set(provider.name, provider);
	}

	names(): ProviderName[] {
		return [...this.byName.values()].map((provider) => provider.name);
	}

	find(name: string): Provider | undefined {
		return this.byName.get(name);
	}

	/** A provider's own validation of an instance's settings (the instances area calls it through InstanceService). */
	readonly parseSettings = (name: string, given: ProviderSettings, current: ProviderSettings): ProviderSettings => {
		const provider = this.byName.get(name);
		return provider?.parseSettings ? provider.parseSettings(given, current) : { ...current, ...given };
	};

	/** Sends per minute the instance's provider allows it (the velocity step's provider pace); undefined: none. */
	pacePerMinute(name: string, settings: ProviderSettings): number | undefined {
		return this.byName.get(name)?.pacePerMinute?.(settings);
	}

	canSendTemplates(name: string): boolean {
		return typeof this.byName.get(name)?.sendTemplate === 'function';
	}

	/** The provider of an instance; a definite refusal (nothing was sent) when it is not available. */
	get(name: string): Provider {
		const provider = this.byName.get(name);
		if (!provider) throw new ProviderError(`no provider "${name}" is configured`);
		return provider;
	}
}
