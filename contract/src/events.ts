/**
 * The sixteen event types of the gateway, in seed 003's six groups: the one definition the server's event
 * catalog and the Trigger node both import (dependency-free, so the published nodes can carry it).
 */
export const EVENT_GROUPS = {
	'Recommended Events': ['message.received', 'message.sent', 'message.failed', 'recipient.opted_out'],
	'Instance Events': [
		'instance.connected',
		'instance.disconnected',
		'instance.connection_updated',
		'instance.qr_updated',
	],
	'Message Lifecycle Events': ['message.delivered', 'message.read', 'message.status_updated'],
	'Conversation Events': ['conversation.updated'],
	'Call Events': ['call.received', 'call.missed'],
	'Group Events': ['group.message_received', 'group.updated'],
} as const;

export type EventGroupName = keyof typeof EVENT_GROUPS;

export type EventType = (typeof EVENT_GROUPS)[EventGroupName][number];

export const EVENT_TYPES: readonly EventType[] = Object.values(EVENT_GROUPS).flat();

export function isEventType(value: string): value is EventType {
	return (EVENT_TYPES as readonly string[]).includes(value);
}

/** "message.status_updated" → "Message Status Updated" (QR stays upper case). */
export function eventTypeLabel(type: EventType): string {
	return type
		.split(/[._]/)
		.map((word) => (word === 'qr' ? 'QR' : word[0].toUpperCase() + word.slice(1)))
		.join(' ');
}
