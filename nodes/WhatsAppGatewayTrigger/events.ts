import type { INodeProperties } from 'n8n-workflow';

/**
 * The sixteen event types in seed 003's groups, one multi-select per group. The subscription is the
 * union of the selected events.
 */
export const EVENT_GROUP_FIELDS: INodeProperties[] = [
	{
		displayName: 'Recommended Events',
		name: 'recommendedEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Message Failed', value: 'message.failed', description: 'A send could not be completed by the provider' },
			{ name: 'Message Received', value: 'message.received', description: 'A WhatsApp user wrote to the instance' },
			{ name: 'Message Sent', value: 'message.sent', description: 'A send was accepted by the provider' },
			{ name: 'Recipient Opted Out', value: 'recipient.opted_out', description: 'A user sent an opt-out keyword such as STOP' },
		],
		default: ['message.received'],
		description: 'The events most workflows need',
	},
	{
		displayName: 'Instance Events',
		name: 'instanceEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Instance Connected', value: 'instance.connected' },
			{ name: 'Instance Connection Updated', value: 'instance.connection_updated' },
			{ name: 'Instance Disconnected', value: 'instance.disconnected' },
			{ name: 'Instance QR Updated', value: 'instance.qr_updated' },
		],
		default: [],
	},
	{
		displayName: 'Message Lifecycle Events',
		name: 'lifecycleEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Message Delivered', value: 'message.delivered' },
			{ name: 'Message Read', value: 'message.read' },
			{ name: 'Message Status Updated', value: 'message.status_updated' },
		],
		default: [],
	},
	{
		displayName: 'Conversation Events',
		name: 'conversationEvents',
		type: 'multiOptions',
		options: [{ name: 'Conversation Updated', value: 'conversation.updated' }],
		default: [],
	},
	{
		displayName: 'Call Events',
		name: 'callEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Call Missed', value: 'call.missed' },
			{ name: 'Call Received', value: 'call.received' },
		],
		default: [],
	},
	{
		displayName: 'Group Events',
		name: 'groupEvents',
		type: 'multiOptions',
		options: [
			{ name: 'Group Message Received', value: 'group.message_received' },
			{ name: 'Group Updated', value: 'group.updated' },
		],
		default: [],
	},
];

export const EVENT_GROUP_NAMES = EVENT_GROUP_FIELDS.map((field) => field.name);
