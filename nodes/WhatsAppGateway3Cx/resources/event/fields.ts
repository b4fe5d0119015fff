import type { INodeProperties } from 'n8n-workflow';
import type { ThreeCxEventType } from '../../../lib/threecx';

const CALL_EVENTS: ThreeCxEventType[] = ['call_started', 'missed_call', 'call_ended', 'voicemail'];
const QUEUE_EVENTS: ThreeCxEventType[] = ['queue_event', 'queue_callback'];

const on = (...operations: ThreeCxEventType[]) => ({ show: { resource: ['event'], operation: operations } });

/**
 * The fields of each event type, with the 3CX variable or Call Flow Designer value that usually fills
 * them. `body` is the gateway's field name; empty fields are left out of the request.
 */
export const EVENT_FIELDS: { parameter: string; body: string; operations: ThreeCxEventType[] }[] = [
	{ parameter: 'to', body: 'to', operations: ['outbound_message'] },
	{
		parameter: 'customerPhone',
		body: 'customer_phone',
		operations: ['inbound_reply', ...CALL_EVENTS, ...QUEUE_EVENTS, 'after_hours'],
	},
	{ parameter: 'messageText', body: 'message_text', operations: ['outbound_message', 'inbound_reply'] },
	{ parameter: 'messagePurpose', body: 'message_purpose', operations: ['outbound_message'] },
	{ parameter: 'agentExtension', body: 'agent_extension', operations: ['outbound_message', ...CALL_EVENTS] },
	{ parameter: 'queue', body: 'queue', operations: [...CALL_EVENTS, ...QUEUE_EVENTS] },
	{ parameter: 'callTime', body: 'call_time', operations: [...CALL_EVENTS, ...QUEUE_EVENTS, 'after_hours'] },
	{ parameter: 'duration', body: 'duration', operations: ['call_ended'] },
	{ parameter: 'callType', body: 'call_type', operations: ['call_ended'] },
	{ parameter: 'conversationId', body: 'conversation_id', operations: ['outbound_message', 'inbound_reply'] },
	{
		parameter: 'externalMessageId',
		body: 'external_message_id',
		operations: [
			'outbound_message',
			'inbound_reply',
			'missed_call',
			'call_ended',
			'voicemail',
			'queue_callback',
			'after_hours',
		],
	},
];

const operationsOf = (parameter: string) =>
	EVENT_FIELDS.find((field) => field.parameter === parameter)?.operations ?? [];

export const eventFields: INodeProperties[] = [
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		default: '',
		required: true,
		placeholder: '+966500000000',
		description:
			'The customer the agent replies to, in international format. They must have written to the WhatsApp number within the conversation window.',
		displayOptions: on(...operationsOf('to')),
	},
	{
		displayName: 'Customer Phone',
		name: 'customerPhone',
		type: 'string',
		default: '',
		required: true,
		placeholder: '+966500000000',
		description:
			"The external caller: 3CX's [Number] in a CRM template, session.ani in a Call Flow. International format is best; national numbers use the account's default country.",
		displayOptions: on(...operationsOf('customerPhone')),
	},
	{
		displayName: 'Message Text',
		name: 'messageText',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		description: "The agent's reply (required for an agent reply), or the customer's text for an inbound reply",
		displayOptions: on(...operationsOf('messageText')),
	},
	{
		displayName: 'Message Purpose',
		name: 'messagePurpose',
		type: 'options',
		default: 'support',
		description: 'Why the reply is sent; marketing, promotions and cold outreach are refused',
		displayOptions: on(...operationsOf('messagePurpose')),
		options: [
			{ name: 'Authentication', value: 'authentication' },
			{ name: 'Internal Team', value: 'internal_team' },
			{ name: 'Operational', value: 'operational' },
			{ name: 'Support', value: 'support' },
			{ name: 'Transactional', value: 'transactional' },
		],
	},
	{
		displayName: 'Agent Extension',
		name: 'agentExtension',
		type: 'string',
		default: '',
		placeholder: '101',
		description:
			'The 3CX extension that handled the call ([Agent] in a CRM template); {{agent_extension}} in templates',
		displayOptions: on(...operationsOf('agentExtension')),
	},
	{
		displayName: 'Queue',
		name: 'queue',
		type: 'string',
		default: '',
		placeholder: '800',
		description: 'The queue number ([QueueExtension]); {{queue}} in templates',
		displayOptions: on(...operationsOf('queue')),
	},
	{
		displayName: 'Call Time',
		name: 'callTime',
		type: 'string',
		default: '',
		placeholder: '2026-09-15T10:00:00Z',
		description:
			'When the call started, best as ISO 8601 ([CallStartTimeUTC]); without an offset it is read in the account time zone. Empty means the time the gateway receives the event. {{call_time}} in templates.',
		displayOptions: on(...operationsOf('callTime')),
	},
	{
		displayName: 'Duration',
		name: 'duration',
		type: 'string',
		default: '',
		placeholder: '00:02:05',
		description: 'Talk time as hh:mm:ss ([Duration]) or in seconds',
		displayOptions: on(...operationsOf('duration')),
	},
	{
		displayName: 'Call Type',
		name: 'callType',
		type: 'options',
		default: '',
		description:
			"3CX's [CallType]. Not Answered (the customer did not pick up the business's call) is never treated as a missed call.",
		displayOptions: on(...operationsOf('callType')),
		options: [
			{ name: '- Not Given -', value: '' },
			{ name: 'Inbound', value: 'Inbound' },
			{ name: 'Not Answered', value: 'Notanswered' },
			{ name: 'Outbound', value: 'Outbound' },
		],
	},
	{
		displayName: 'Conversation ID',
		name: 'conversationId',
		type: 'string',
		default: '',
		placeholder: '3cx-chat-123',
		description: 'The 3CX chat this belongs to, for your own records',
		displayOptions: on(...operationsOf('conversationId')),
	},
	{
		displayName: 'External Message ID',
		name: 'externalMessageId',
		type: 'string',
		default: '',
		placeholder: '3cx-call-9f2c',
		description:
			'An ID of this call or message. The gateway sends once per ID, so a workflow retried with the same ID never messages the customer twice.',
		displayOptions: on(...operationsOf('externalMessageId')),
	},
];
