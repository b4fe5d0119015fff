import type { INodeProperties } from 'n8n-workflow';
import { EVENT_GROUPS, eventTypeLabel, type EventGroupName, type EventType } from '../../contract/src/events';

/** The node parameter holding each group's selection (stored in workflows: never rename). */
const GROUP_PARAMETERS: Record<EventGroupName, string> = {
	'Recommended Events': 'recommendedEvents',
	'Instance Events': 'instanceEvents',
	'Message Lifecycle Events': 'lifecycleEvents',
	'Conversation Events': 'conversationEvents',
	'Call Events': 'callEvents',
	'Group Events': 'groupEvents',
};

const EVENT_DESCRIPTIONS: Partial<Record<EventType, string>> = {
	'message.failed': 'A send could not be completed by the provider',
	'message.received': 'A WhatsApp user wrote to the instance',
	'message.sent': 'A send was accepted by the provider',
	'recipient.opted_out': 'A user sent an opt-out keyword such as STOP',
};

/**
 * The sixteen event types in seed 003's groups (defined once in contract/src/events.ts), one
 * multi-select per group, options in alphabetical order. The subscription is the union of the
 * selected events.
 */
export const EVENT_GROUP_FIELDS: INodeProperties[] = (Object.keys(EVENT_GROUPS) as EventGroupName[]).map((group) => {
	const options = EVENT_GROUPS[group]
		.map((type) => ({
			name: eventTypeLabel(type),
			value: type,
			...(EVENT_DESCRIPTIONS[type] ? { description: EVENT_DESCRIPTIONS[type] } : {}),
		}))
		.sort((a, b) => a.name.localeCompare(b.name));
	const recommended = group === 'Recommended Events';
	return {
		displayName: group,
		name: GROUP_PARAMETERS[group],
		type: 'multiOptions',
		options,
		default: [],
		// The recommended group starts with the one event almost every workflow wants.
		...(recommended ? { default: ['message.received'], description: 'The events most workflows need' } : {}),
	};
});

export const EVENT_GROUP_NAMES = EVENT_GROUP_FIELDS.map((field) => field.name);
