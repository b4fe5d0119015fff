import { DELIVERY_SIGNATURE_HEADERS } from 'whatsapp-gateway-contract';
import { iso } from '../common/iso';
import type { InboundResult } from './inbound';
import type { DeliveryRow } from './outbox-repository';
import type { Webhook } from './webhooks';

/** A webhook subscription as the API and the CLI show it (never its signing secret). */
export const webhookJson = (webhook: Webhook) => ({
	id: webhook.id,
	destination_url: webhook.destinationUrl,
	events: webhook.events,
	instance_id: webhook.instanceId,
	enabled: webhook.enabled,
	disabled_reason: webhook.disabledReason,
	created_at: iso(webhook.createdAt),
	updated_at: iso(webhook.updatedAt),
	/** Every delivery is signed in each of these headers (a Trigger requires the Standard Webhooks one when listed). */
	signature_headers: DELIVERY_SIGNATURE_HEADERS,
	/** While a rotated secret still signs beside the new one, when that stops; null otherwise. */
	previous_secret_expires_at: iso(webhook.previousSecretExpiresAt),
	health: {
		last_success_at: iso(webhook.health.lastSuccessAt),
		last_failure_at: iso(webhook.health.lastFailureAt),
		last_failure_reason: webhook.health.lastFailureReason,
		consecutive_failures: webhook.health.consecutiveFailures,
		pending_deliveries: webhook.health.pendingDeliveries,
	},
});

/** The operator's view (CLI): which subscriptions another area manages, and in which shape they deliver. */
export const operatorWebhookJson = (webhook: Webhook) => ({
	...webhookJson(webhook),
	account_id: webhook.accountId,
	managed_by: webhook.managedBy,
	format: webhook.format,
});

/** One delivery of the outbox and where its attempts stand. */
export const deliveryJson = (delivery: DeliveryRow & { event_type?: string }) => ({
	id: delivery.id,
	event_id: delivery.event_id,
	event_type: delivery.event_type ?? null,
	webhook_id: delivery.webhook_id,
	status: delivery.status,
	attempts: delivery.attempts,
	next_attempt_at: delivery.status === 'pending' ? iso(delivery.next_attempt_at) : null,
	last_status_code: delivery.last_status_code,
	last_error: delivery.last_error,
	created_at: iso(delivery.created_at),
	delivered_at: iso(delivery.delivered_at),
});

/** What became of a provider's report: stored once (or a duplicate), the keyword it carried, the events recorded. */
export const inboundResultJson = (result: InboundResult) => ({
	duplicate: result.duplicate,
	inbound_id: result.inboundId ?? null,
	keyword_action: result.keywordAction ?? null,
	event_ids: result.eventIds,
});
