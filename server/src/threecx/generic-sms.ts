import type { EventPayload } from '../events/catalog';
import type { WebhookRow } from '../events/webhook-repository';
import { ApiError } from '../http/errors';
import type { Integration } from './integrations';

/**
 * 3CX's Generic SMS provider (3CX v18 Update 7 and later), so agents can reply from the 3CX inbox:
 * 3CX posts `{from, to, text}` to the provider URL with `Authorization: Bearer <key>`, and takes inbound
 * messages at its webhook URL in a Telnyx-style `message.received` envelope.
 */

const field = (body: Record<string, unknown>, name: string): unknown =>
	body[name] ?? body[name[0].toUpperCase() + name.slice(1)];

/**
 * 3CX → us: the agent's reply as an `outbound_message` event (a support reply into the open conversation).
 * The shape is inferred by the projects that use it, not documented, so `From`/`To`/`Text` are read too.
 */
export function outboundFromGenericSms(body: Record<string, unknown>): Record<string, unknown> {
	const text = field(body, 'text');
	if (text !== undefined && typeof text !== 'string')
		throw new ApiError('invalid_3cx_event', { fields: { text: 'must be a string' } });
	return {
		event_type: 'outbound_message',
		to: field(body, 'to'),
		message_text: text,
		message_purpose: 'support',
	};
}

/** us → 3CX: an inbound WhatsApp message as the envelope 3CX's Generic SMS webhook expects. */
export function genericSmsEnvelope(payload: EventPayload, lineNumber: string | null, eventId: string): string {
	return JSON.stringify({
		data: {
			event_type: 'message.received',
			id: eventId,
			occurred_at: payload.timestamp,
			record_type: 'event',
			payload: {
				direction: 'inbound',
				type: 'SMS',
				text: payload.message_text,
				received_at: payload.timestamp,
				from: { phone_number: payload.from },
				to: [{ phone_number: lineNumber }],
			},
		},
	});
}

/** The outbox formatter for `generic_sms` subscriptions: the owning integration supplies its line number. */
export function genericSmsFormatter(findIntegration: (id: number) => Integration | undefined) {
	return (payload: EventPayload, webhook: WebhookRow, eventId: string): string => {
		const owner = /^3cx:(\d+)$/.exec(webhook.managed_by ?? '');
		const integration = owner ? findIntegration(Number(owner[1])) : undefined;
		return genericSmsEnvelope(payload, integration?.lineNumber ?? null, eventId);
	};
}
