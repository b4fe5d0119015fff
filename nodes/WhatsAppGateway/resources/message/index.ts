import type { INodeProperties } from 'n8n-workflow';
import { sendFields } from './send';

const showOnlyForMessages = {
	resource: ['message'],
};

export const messageDescription: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: {
			show: showOnlyForMessages,
		},
		options: [
			{
				name: 'Send',
				value: 'send',
				description: 'Send a text or media message to one recipient',
				action: 'Send a message',
			},
		],
		default: 'send',
	},
	...sendFields,
];
