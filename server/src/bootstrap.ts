import { ensureOperatorToken } from './accounts/operator-token';
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

/** What a start created that is shown once: the set-up of an empty database, a generated operator token. */
export interface StartSecrets {
	bootstrap: BootstrapResult | undefined;
	operatorToken: string | undefined;
}

/**
 * Sets up an empty database and makes sure of an operator token in one transaction, which commits only
 * once `show` has shown what was created (printed on a terminal, or written to the credentials file). A
 * start that fails before that creates nothing, so the next start sets up again and shows it: no start
 * loses the only copy of a key that is stored hashed. A crash between showing and committing shows
 * secrets that never worked; the next start shows new ones the same way.
 */
export function setUpStartSecrets(
	gateway: Gateway,
	options: { timeZone: string; adminToken: string | undefined },
	show: (created: StartSecrets) => void,
): StartSecrets {
	return gateway.db.transaction(() => {
		const created = {
			bootstrap: bootstrapIfEmpty(gateway, { timeZone: options.timeZone }),
			operatorToken: ensureOperatorToken(gateway.accounts, options.adminToken),
		};
		if (created.bootstrap || created.operatorToken) show(created);
		return created;
	})();
}
