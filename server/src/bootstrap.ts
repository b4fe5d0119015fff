import type { Gateway } from './gateway';

export const DEMO_INSTANCE_NAME = 'demo-support-line';

export interface BootstrapResult {
	accountId: number;
	instanceId: string;
	apiKey: string;
}

/**
 * First start on an empty database: a Starter account, the `demo-support-line` sandbox instance and one
 * API key, so a newcomer can send a message straight away. Does nothing when any account exists.
 */
export function bootstrapIfEmpty(gateway: Gateway, options: { timeZone: string }): BootstrapResult | undefined {
	if (gateway.accounts.list().length > 0) return undefined;
	return gateway.db.transaction(() => {
		const account = gateway.accounts.create({ name: 'Default account', plan: 'starter', timeZone: options.timeZone });
		const instance = gateway.instances.create({
			accountId: account.id,
			name: DEMO_INSTANCE_NAME,
			displayName: 'Demo Support Line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const { key } = gateway.accounts.createKey(account.id, 'bootstrap');
		return { accountId: account.id, instanceId: instance.id, apiKey: key };
	})();
}
