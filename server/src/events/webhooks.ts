import { randomBase62 } from '../accounts/keys';
import type { Clock } from '../clock';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import { EVENT_TYPES, isEventType, type EventType } from './catalog';
import { checkDestination, parseDestinationUrl } from './destination';
import type { DeliveryRow } from './outbox-repository';
import type { EventsRepository } from './repository';
import type { WebhookRow } from './webhook-repository';

export interface Webhook {
	id: string;
	accountId: number;
	destinationUrl: string;
	events: EventType[];
	instanceId: string | null;
	enabled: boolean;
	disabledReason: string | null;
	createdAt: number;
	updatedAt: number;
	/** Set on a subscription another area owns (a 3CX integration's inbound forwarding). */
	managedBy: string | null;
	format: string;
	/** While a rotation's overlap lasts, when it ends (the previous secret signs beside the current one until then). */
	previousSecretExpiresAt: number | null;
	health: WebhookHealth;
}

/** A subscription owned by another area: its destination, shape and secret follow the owner's settings. */
export interface ManagedWebhookInput {
	accountId: number;
	instanceId: string;
	destinationUrl: string;
	events: EventType[];
	format: string;
	secret: string;
	managedBy: string;
}

/** How deliveries to a subscription are going (docs/events.md, "Delivery and retries"). */
export interface WebhookHealth {
	lastSuccessAt: number | null;
	lastFailureAt: number | null;
	lastFailureReason: string | null;
	consecutiveFailures: number;
	pendingDeliveries: number;
}

export interface WebhookInput {
	accountId: number;
	destinationUrl: unknown;
	events: unknown;
	instanceId?: unknown;
}

const toWebhook = (row: WebhookRow, pendingDeliveries: number, now: number): Webhook => ({
	id: row.id,
	accountId: row.account_id,
	destinationUrl: row.destination_url,
	events: JSON.parse(row.events) as EventType[],
	instanceId: row.instance_id,
	enabled: row.enabled === 1,
	disabledReason: row.disabled_reason,
	createdAt: row.created_at,
	updatedAt: row.updated_at,
	managedBy: row.managed_by,
	format: row.format,
	previousSecretExpiresAt:
		row.previous_secret !== null && row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now
			? row.previous_secret_expires_at
			: null,
	health: {
		lastSuccessAt: row.last_success_at,
		lastFailureAt: row.last_failure_at,
		lastFailureReason: row.last_failure_reason,
		consecutiveFailures: row.consecutive_failures,
		pendingDeliveries,
	},
});

/** How long a rotated secret keeps signing beside the new one unless the caller says otherwise: a day. */
export const DEFAULT_SECRET_OVERLAP_SECONDS = 24 * 3600;
/** The longest overlap a rotation may ask for: a week. */
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 24 * 3600;

/** `whsec_` + 40 base62 characters: also valid base64 of 30 bytes, so Standard Webhooks libraries take it as it is. */
const newSecret = () => `whsec_${randomBase62(40)}`;

/** A field-level refusal; the HTTP layer turns `fields` into a validation_error's details. */
export class WebhookInputError extends InputError {
	constructor(readonly fields: Record<string, string>) {
		super(
			Object.entries(fields)
				.map(([field, reason]) => `${field} ${reason}`)
				.join('; '),
		);
	}
}

/** The account already holds as many subscriptions as it may; the API answers 422 webhook_limit_reached. */
export class WebhookLimitError extends InputError {
	constructor(
		readonly limit: number,
		readonly used: number,
	) {
		super(
			`the account has ${used} webhook subscriptions and may have at most ${limit}; delete one or ask for a reviewed higher limit`,
		);
	}
}

/** Customer webhook subscriptions: created with a signing secret shown once, scoped to their account. */
export class WebhookService {
	private readonly requeueListeners: Array<(webhookId: string) => void> = [];

	constructor(
		private readonly repo: EventsRepository,
		private readonly instances: InstanceService,
		private readonly clock: Clock,
		private readonly allowPrivateDestinations: boolean,
		/** The account's subscription limit (plan default or reviewed override): every creation is held to it. */
		private readonly limitFor: (accountId: number) => number,
	) {}

	async create(input: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
		const fields: Record<string, string> = {};
		let url: URL | undefined;
		if (typeof input.destinationUrl !== 'string') fields.destination_url = 'is required';
		else {
			try {
				url = parseDestinationUrl(input.destinationUrl);
			} catch (error) {
				fields.destination_url = (error as Error).message;
			}
		}
		const types = this.parseEvents(input.events, fields);
		let instanceId: string | null = null;
		if (input.instanceId !== undefined && input.instanceId !== null && input.instanceId !== '') {
			const found =
				typeof input.instanceId === 'string'
					? this.instances.findForAccount(input.accountId, input.instanceId)
					: undefined;
			if (!found) fields.instance_id = 'is not an instance of this account';
			else instanceId = found.id;
		}
		if (url && !fields.destination_url) {
			try {
				await checkDestination(url, { allowPrivate: this.allowPrivateDestinations });
			} catch (error) {
				fields.destination_url = (error as Error).message;
			}
		}
		if (Object.keys(fields).length > 0 || !url) throw new WebhookInputError(fields);
		const secret = newSecret();
		const row = this.newRow({
			accountId: input.accountId,
			destinationUrl: url.href,
			events: types,
			instanceId,
			secret,
			format: 'gateway',
			managedBy: null,
		});
		// Counted and inserted in one write transaction, so concurrent creations (API and CLI) cannot pass the limit.
		this.repo.transaction(() => {
			const used = this.repo.webhooks.count(input.accountId);
			const limit = this.limitFor(input.accountId);
			if (used >= limit) throw new WebhookLimitError(limit, used);
			this.repo.webhooks.insert(row);
		});
		return { webhook: toWebhook(row, 0, row.created_at), secret };
	}

	/** Checks a destination URL the way `create` does (scheme, credentials, SSRF); throws InputError. */
	async checkDestinationUrl(text: string): Promise<string> {
		const url = parseDestinationUrl(text);
		await checkDestination(url, { allowPrivate: this.allowPrivateDestinations });
		return url.href;
	}

	/** Creates a managed subscription; call `checkDestinationUrl` first. Runs in the caller's transaction. */
	createManaged(input: ManagedWebhookInput): Webhook {
		const row = this.newRow(input);
		this.repo.webhooks.insert(row);
		return toWebhook(row, 0, row.created_at);
	}

	private newRow(
		input: Omit<ManagedWebhookInput, 'instanceId' | 'managedBy'> & {
			instanceId: string | null;
			managedBy: string | null;
		},
	): WebhookRow {
		const now = this.clock.now();
		return {
			id: `wh_${randomBase62(16)}`,
			account_id: input.accountId,
			destination_url: input.destinationUrl,
			events: JSON.stringify(input.events),
			instance_id: input.instanceId,
			secret: input.secret,
			previous_secret: null,
			previous_secret_expires_at: null,
			enabled: 1,
			disabled_reason: null,
			created_at: now,
			updated_at: now,
			managed_by: input.managedBy,
			format: input.format,
			last_success_at: null,
			last_failure_at: null,
			last_failure_reason: null,
			consecutive_failures: 0,
		};
	}

	/**
	 * A new signing secret, returned here only. For `overlapSeconds` the old one keeps signing beside it in
	 * `webhook-signature` (0: it stops at once); the seed's header is signed with the new one from now on. A
	 * rotation during an overlap ends that overlap: only the secret being replaced overlaps.
	 */
	rotateSecret(id: string, overlapSeconds = DEFAULT_SECRET_OVERLAP_SECONDS): { webhook: Webhook; secret: string } {
		const current = this.repo.webhooks.find(id);
		if (!current) throw new InputError(`webhook ${id} does not exist`);
		if (current.managed_by !== null) {
			throw new InputError(`webhook ${id} is managed by ${current.managed_by}; rotate the secret through its owner`);
		}
		if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SECRET_OVERLAP_SECONDS) {
			throw new WebhookInputError({
				overlap_seconds: `must be a whole number of seconds from 0 to ${MAX_SECRET_OVERLAP_SECONDS}`,
			});
		}
		const now = this.clock.now();
		const secret = newSecret();
		const previous = overlapSeconds > 0 ? { secret: current.secret, until: now + overlapSeconds * 1000 } : null;
		this.repo.webhooks.rotateSecret(id, secret, previous, now);
		return { webhook: this.get(id), secret };
	}

	/** Points a managed subscription elsewhere, or changes its shape or secret. Runs in the caller's transaction. */
	retargetManaged(id: string, change: { destinationUrl: string; format: string; secret: string }): void {
		this.repo.webhooks.retarget(id, change.destinationUrl, change.format, change.secret, this.clock.now());
	}

	/** Deletes a subscription and its deliveries inside the caller's transaction. */
	deleteInTransaction(id: string): void {
		this.repo.webhooks.delete(id);
	}

	list(accountId?: number): Webhook[] {
		return this.repo.webhooks.list(accountId).map((row) => this.withHealth(row));
	}

	private withHealth(row: WebhookRow): Webhook {
		return toWebhook(row, this.repo.deliveryLog.pendingCount(row.id), this.clock.now());
	}

	/** The webhook if it exists and (when accountId is given) belongs to that account. */
	find(id: string, accountId?: number): Webhook | undefined {
		const row = this.repo.webhooks.find(id);
		if (!row || (accountId !== undefined && row.account_id !== accountId)) return undefined;
		return this.withHealth(row);
	}

	get(id: string): Webhook {
		const found = this.find(id);
		if (!found) throw new InputError(`webhook ${id} does not exist`);
		return found;
	}

	delete(id: string): void {
		const webhook = this.get(id);
		if (webhook.managedBy !== null) {
			throw new InputError(`webhook ${id} is managed by ${webhook.managedBy}; change or delete it through its owner`);
		}
		this.repo.transaction(() => this.repo.webhooks.delete(id));
	}

	setEnabled(id: string, enabled: boolean, reason = 'disabled by operator'): Webhook {
		this.get(id);
		this.repo.webhooks.setEnabled(id, enabled, reason, this.clock.now());
		return this.get(id);
	}

	deliveries(filter: { accountId?: number; webhookId?: string; status?: string; limit?: number }) {
		return this.repo.deliveryLog.list({ ...filter, limit: filter.limit ?? 50 });
	}

	/** Finished deliveries and their events older than `before` (pending ones are kept whatever their age). */
	prune(before: number) {
		return this.repo.deliveryLog.prune(before);
	}

	findDelivery(id: number): (DeliveryRow & { event_type: string }) | undefined {
		return this.repo.deliveryLog.find(id);
	}

	/** Queues a delivery again, with a fresh retry schedule; its event id (the Delivery header) stays. */
	redeliver(deliveryId: number): DeliveryRow & { event_type: string } {
		const delivery = this.repo.deliveryLog.find(deliveryId);
		if (!delivery) throw new InputError(`delivery ${deliveryId} does not exist`);
		this.repo.deliveryLog.requeue(deliveryId, this.clock.now());
		for (const listener of this.requeueListeners) listener(delivery.webhook_id);
		return this.repo.deliveryLog.find(deliveryId) as DeliveryRow & { event_type: string };
	}

	/** Tells a listener (the delivery worker) which subscription has a delivery queued again. */
	onRequeued(listener: (webhookId: string) => void): void {
		this.requeueListeners.push(listener);
	}

	private parseEvents(value: unknown, fields: Record<string, string>): EventType[] {
		if (!Array.isArray(value) || value.length === 0) {
			fields.events = `must be a non-empty list of event types (${EVENT_TYPES.join(', ')})`;
			return [];
		}
		const unknown = value.filter((item) => typeof item !== 'string' || !isEventType(item));
		if (unknown.length > 0) {
			const shown = unknown.map((item) =>
				typeof item === 'string' ? item.slice(0, 64) : `(${Array.isArray(item) ? 'array' : typeof item})`,
			);
			fields.events = `has unknown event types: ${shown.join(', ')}`;
			return [];
		}
		return [...new Set(value as EventType[])];
	}
}
