import { iso } from '../common/iso';
import type { Integration } from './integrations';
import { REQUESTS_PER_MINUTE } from './rate-limit';
import type { EventLogRow } from './repository';

/** Where 3CX posts for an integration, relative to the gateway's public URL. */
export const webhookPath = (id: number) => `/integrations/3cx/webhook/${id}`;
export const genericSmsPath = (id: number) => `/integrations/3cx/sms/${id}`;

/** An integration as the operator API and the CLI show it: never its secrets, only whether HMAC is on. */
export const integrationJson = (integration: Integration) => ({
	id: integration.id,
	account_id: integration.accountId,
	instance_id: integration.instanceId,
	name: integration.name,
	enabled: integration.enabled,
	outbound_enabled: integration.outboundEnabled,
	call_events_enabled: integration.callEventsEnabled,
	hmac_enabled: integration.hmacSecret !== null,
	ip_allowlist: integration.ipAllowlist,
	business_name: integration.businessName,
	strict_window: integration.strictWindow,
	window_hours: integration.windowHours,
	templates: integration.templates,
	destination_url: integration.destinationUrl,
	destination_format: integration.destinationFormat,
	line_number: integration.lineNumber,
	forwarding_webhook_id: integration.webhookId,
	webhook_path: webhookPath(integration.id),
	generic_sms_path: genericSmsPath(integration.id),
	created_at: iso(integration.createdAt),
	updated_at: iso(integration.updatedAt),
});

/** One entry of the 3CX event log. */
export const threecxEventJson = (row: EventLogRow) => ({
	id: row.id,
	event_type: row.event_type,
	status: row.status,
	action: row.action,
	reason: row.reason,
	error: row.error_code,
	phone: row.phone,
	external_message_id: row.external_message_id,
	conversation_id: row.conversation_id,
	agent_extension: row.agent_extension,
	queue: row.queue,
	call_time: row.call_time,
	duration_seconds: row.duration_seconds,
	log_id: row.log_id,
	created_at: iso(row.created_at),
});

/** The integration's requests refused by the rate limit (60 a minute: 30 calls, a lookup and a report each). */
export const rateLimitedJson = (counts: { lastHour: number; lastDay: number; lastAt: number | null }) => ({
	limit_per_minute: REQUESTS_PER_MINUTE,
	last_hour: counts.lastHour,
	last_24_hours: counts.lastDay,
	last_at: iso(counts.lastAt),
});
