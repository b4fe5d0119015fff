import { iso } from '../common/iso';
import type { Instance } from './service';

/** An instance as its account sees it (`GET /api/instances`); provider settings, which may hold secrets, never appear. */
export const instanceJson = (instance: Instance) => ({
	id: instance.id,
	name: instance.name,
	display_name: instance.displayName,
	provider: instance.provider,
	connection_state: instance.connectionState,
	paused: instance.paused,
	paused_reason: instance.pausedReason,
});

/** The operator's view (CLI, dashboard): the account's view plus whose it is and when things happened. */
export const operatorInstanceJson = (instance: Instance) => ({
	...instanceJson(instance),
	account_id: instance.accountId,
	paused_at: iso(instance.pausedAt),
	created_at: iso(instance.createdAt),
});
