import { ProviderError, type Provider, type ProviderName } from './types';

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

  /** The provider of an instance; a definite refusal (nothing was sent) when it is not available. */
  get(name: string): Provider {
    const provider = this.byName.get(name);
    if (!provider) throw new ProviderError(`no provider "${name}" is configured`);
    return provider;
  }
}
