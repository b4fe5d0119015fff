import type { INodeProperties } from 'n8n-workflow';

const showOnlyForSend = {
	resource: ['message'],
	operation: ['send'],
};

const showOnlyForMedia = { ...showOnlyForSend, sendMedia: [true] };

export const sendFields: INodeProperties[] = [
	{
		displayName: 'Instance',
		name: 'instanceId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The gateway instance (WhatsApp number) that sends the message',
		displayOptions: { show: showOnlyForSend },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select an instance...',
				typeOptions: {
					searchListMethod: 'searchInstances',
					searchable: true,
				},
			},
			{
				displayName: 'By ID or Name',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. inst_… or demo-support-line',
			},
		],
	},
	{
		displayName: 'Phone',
		name: 'phone',
		type: 'string',
		default: '',
		required: true,
		placeholder: '+966501234567',
		description:
			"The recipient. Start with + (or 00) for an international number; other numbers are read as national numbers of the account's default country.",
		displayOptions: { show: showOnlyForSend },
	},
	{
		displayName: 'Message Purpose',
		name: 'messagePurpose',
		type: 'options',
		default: '',
		required: true,
		description:
			'Why this message is sent. The gateway only carries these purposes: marketing, cold outreach and bulk campaigns are refused.',
		displayOptions: { show: showOnlyForSend },
		// No purpose is preselected: the empty choice keeps the parameter "required" in the editor
		// until the user picks one (n8n's lint wants the default to be one of the options).
		options: [
			{
				name: '- Select a Purpose -',
				value: '',
				description: 'Not chosen yet: pick the purpose that fits this message',
			},
			{
				name: 'Authentication',
				value: 'authentication',
				description: 'One-time codes and login confirmations',
			},
			{
				name: 'Internal Team',
				value: 'internal_team',
				description: 'Messages to your own staff',
			},
			{
				name: 'Operational',
				value: 'operational',
				description: 'Service notices such as appointment reminders or outages',
			},
			{
				name: 'Support',
				value: 'support',
				description: 'Answers in a support conversation the customer started',
			},
			{
				name: 'Transactional',
				value: 'transactional',
				description: 'Receipts, invoices, order and delivery updates',
			},
		],
	},
	{
		displayName: 'Message',
		name: 'message',
		type: 'string',
		default: '',
		typeOptions: { rows: 4 },
		description:
			'The text, at most 4,096 characters. With media it is the caption (may be empty, at most 1,024 characters).',
		displayOptions: { show: showOnlyForSend },
	},
	{
		displayName: 'Send Media',
		name: 'sendMedia',
		type: 'boolean',
		default: false,
		description: 'Whether to send an image, document, audio or video file with the message',
		displayOptions: { show: showOnlyForSend },
	},
	{
		displayName: 'Media Type',
		name: 'mediaType',
		type: 'options',
		default: 'document',
		displayOptions: { show: showOnlyForMedia },
		options: [
			{ name: 'Audio', value: 'audio' },
			{ name: 'Document', value: 'document' },
			{ name: 'Image', value: 'image' },
			{ name: 'Video', value: 'video' },
		],
	},
	{
		displayName: 'Media Source',
		name: 'mediaSource',
		type: 'options',
		default: 'binary',
		description: 'Where the file comes from. At most 16 MB.',
		displayOptions: { show: showOnlyForMedia },
		options: [
			{
				name: 'Binary File',
				value: 'binary',
				description: 'A binary field of the input item, e.g. from Read/Write Files or HTTP Request',
			},
			{
				name: 'URL',
				value: 'url',
				description: 'An https:// URL the gateway passes to WhatsApp',
			},
		],
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field containing the file to send',
		displayOptions: { show: { ...showOnlyForMedia, mediaSource: ['binary'] } },
	},
	{
		displayName: 'Media URL',
		name: 'mediaUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. https://example.com/invoices/INV-2041.pdf',
		displayOptions: { show: { ...showOnlyForMedia, mediaSource: ['url'] } },
	},
	{
		displayName: 'MIME Type',
		name: 'mimeType',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. application/pdf',
		description: 'The type of the file at the URL. Image, audio and video types must match the media type.',
		displayOptions: { show: { ...showOnlyForMedia, mediaSource: ['url'] } },
	},
	{
		displayName: 'File Name',
		name: 'fileName',
		type: 'string',
		default: '',
		placeholder: 'e.g. INV-2041.pdf',
		description:
			"The name the recipient sees. Documents need one: when empty, the binary file's name (or the last part of the URL) is used.",
		displayOptions: { show: showOnlyForMedia },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show: showOnlyForSend },
		options: [
			{
				displayName: 'Idempotency Key',
				name: 'idempotencyKey',
				type: 'string',
				default: '',
				placeholder: 'e.g. order-2041-shipped',
				description:
					'1–255 visible ASCII characters. The gateway sends a message once per key (for 24 hours); a repeat returns the first answer. By default the node derives a key from the execution, node, run and item, so Retry On Fail never sends twice.',
			},
		],
	},
];
