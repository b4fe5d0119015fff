import type { INodeProperties } from 'n8n-workflow';
import { eventFields } from './fields';

/** One operation per 3CX event type, named the way a 3CX admin thinks of the call or chat. */
export const eventDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['event'] } },
		options: [
			{
				name: 'Log Inbound Reply',
				value: 'inbound_reply',
				description: 'Record that a WhatsApp reply reached 3CX (nothing is sent)',
				action: 'Log an inbound reply',
			},
			{
				name: 'Report After-Hours Call',
				value: 'after_hours',
				description: 'A call reached the office-hours "closed" branch of a Call Flow: sends the after_hours template',
				action: 'Report an after hours call',
			},
			{
				name: 'Report Call Ended',
				value: 'call_ended',
				description: 'A call ended (3CX ReportCall): sends the call_ended template when it is switched on',
				action: 'Report a call that ended',
			},
			{
				name: 'Report Call Started',
				value: 'call_started',
				description: 'A call is ringing or was dialled (the CRM lookup): logged, nothing is sent',
				action: 'Report a call that started',
			},
			{
				name: 'Report Missed Call',
				value: 'missed_call',
				description: 'A customer called and nobody answered: sends the missed_call template',
				action: 'Report a missed call',
			},
			{
				name: 'Report Queue Callback Request',
				value: 'queue_callback',
				description: 'A caller in a queue asked to be called back: sends the queue_callback template',
				action: 'Report a queue callback request',
			},
			{
				name: 'Report Queue Event',
				value: 'queue_event',
				description: 'Something happened in a queue (e.g. a timeout): logged, nothing is sent',
				action: 'Report a queue event',
			},
			{
				name: 'Report Voicemail',
				value: 'voicemail',
				description: 'A caller left a voicemail: sends the voicemail template',
				action: 'Report a voicemail',
			},
			{
				name: 'Send Agent Reply',
				value: 'outbound_message',
				description: 'An agent replies on WhatsApp to a customer who wrote within the conversation window',
				action: 'Send an agent reply',
			},
			{
				name: 'Send Test Event',
				value: 'test',
				description: 'Check the integration URL and secrets, like the Test button in 3CX',
				action: 'Send a test event',
			},
		],
		default: 'missed_call',
	},
	...eventFields,
];
