/**
 * The payloads of the sixteen event types (seed 001 schemas). The types and their groups are defined
 * once in contract/src/events.ts, shared with the Trigger node. Every event the gateway emits is built
 * here, from a normalized fact, with exactly the schema's fields.
 */
import { type EventType } from 'whatsapp-gateway-contract';
import { iso } from '../common/iso';

export { EVENT_TYPES, isEventType, type EventType } from 'whatsapp-gateway-contract';

/** Where and when: the base fields of every event. */
export interface EventSource {
	instanceId: string;
	instanceName: string;
	at: number;
}

export interface EventPayload {
	event: EventType;
	instance_id: string;
	instance_name: string;
	timestamp: string;
	[field: string]: unknown;
}

function base(event: EventType, source: EventSource): EventPayload {
	return {
		event,
		instance_id: source.instanceId,
		instance_name: source.instanceName,
		timestamp: iso(source.at),
	};
}

/** Optional fields are left out rather than sent as null. */
function withOptional(payload: EventPayload, optional: Record<string, unknown>): EventPayload {
	for (const [key, value] of Object.entries(optional)) if (value !== undefined && value !== null) payload[key] = value;
	return payload;
}

export const events = {
	messageReceived: (
		source: EventSource,
		fact: { from: string; text: string; messageType: string; externalMessageId: string },
	): EventPayload =>
		withOptional(
			{ ...base('message.received', source), from: fact.from, message_text: fact.text },
			{ message_type: fact.messageType, external_message_id: fact.externalMessageId },
		),

	messageSent: (source: EventSource, fact: { to: string; messageId: string; purpose: string }): EventPayload =>
		withOptional(
			{ ...base('message.sent', source), to: fact.to, message_purpose: fact.purpose },
			{ message_id: fact.messageId },
		),

	/**
	 * `error` is the schema's field; `error_code` and `error_message` are the Postman example's. `reason` is
	 * gateway_send_failed's safe reason (as in the API's `details.reason`), `message_id` the provider's id of a
	 * message it accepted and gave up on later.
	 */
	messageFailed: (
		source: EventSource,
		fact: {
			to: string;
			purpose: string;
			errorCode: string;
			errorMessage: string;
			reason?: string;
			messageId?: string;
			logId?: number;
		},
	): EventPayload =>
		withOptional(
			{
				...base('message.failed', source),
				to: fact.to,
				message_purpose: fact.purpose,
				error: fact.errorMessage,
				error_code: fact.errorCode,
				error_message: fact.errorMessage,
			},
			{ reason: fact.reason, message_id: fact.messageId, log_id: fact.logId },
		),

	recipientOptedOut: (source: EventSource, fact: { from: string; text: string }): EventPayload => ({
		...base('recipient.opted_out', source),
		from: fact.from,
		reason: 'recipient_requested_stop',
		message_text: fact.text,
	}),

	instanceConnection: (
		type: 'instance.connected' | 'instance.disconnected' | 'instance.connection_updated',
		source: EventSource,
		fact: { connectionState: string },
	): EventPayload => ({ ...base(type, source), connection_state: fact.connectionState }),

	instanceQrUpdated: (source: EventSource, fact: { qrAvailable: boolean }): EventPayload => ({
		...base('instance.qr_updated', source),
		qr_available: fact.qrAvailable,
	}),

	messageStatus: (
		type: 'message.delivered' | 'message.read' | 'message.status_updated',
		source: EventSource,
		fact: { from?: string; externalMessageId: string; status: string },
	): EventPayload =>
		withOptional(
			{ ...base(type, source), external_message_id: fact.externalMessageId, status: fact.status },
			{ from: fact.from },
		),

	conversationUpdated: (source: EventSource, fact: { conversationId?: string }): EventPayload =>
		withOptional(base('conversation.updated', source), { conversation_id: fact.conversationId }),

	call: (
		type: 'call.received' | 'call.missed',
		source: EventSource,
		fact: { from?: string; callStatus?: string },
	): EventPayload => withOptional(base(type, source), { from: fact.from, call_status: fact.callStatus }),

	groupMessageReceived: (
		source: EventSource,
		fact: { groupId: string; from?: string; text?: string; externalMessageId?: string },
	): EventPayload =>
		withOptional(
			{ ...base('group.message_received', source), group_id: fact.groupId },
			{ from: fact.from, message_text: fact.text, external_message_id: fact.externalMessageId },
		),

	groupUpdated: (source: EventSource, fact: { groupId: string }): EventPayload => ({
		...base('group.updated', source),
		group_id: fact.groupId,
	}),
};
