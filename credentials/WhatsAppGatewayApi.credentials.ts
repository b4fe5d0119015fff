import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

/**
 * API key for a self-hosted WhatsApp Gateway. Every request carries `Authorization: Bearer <key>`;
 * the credential test calls `GET /api/me`, which answers 200 for a good key and 401 otherwise.
 */
export class WhatsAppGatewayApi implements ICredentialType {
	name = 'whatsAppGatewayApi';

	displayName = 'WhatsApp Gateway API';

	icon: Icon = {
		light: 'file:../icons/whatsapp-gateway.svg',
		dark: 'file:../icons/whatsapp-gateway.dark.svg',
	};

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-whatsapp-gateway#the-credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://localhost:3000',
			placeholder: 'e.g. http://localhost:3000',
			description:
				'The URL of your WhatsApp Gateway, without a path (no trailing /api). It must be reachable from n8n.',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description:
				'A gateway API key (it starts with wg_live_). Create one with "whatsapp-gateway keys create --account ID"; the gateway also prints one on its first start.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/api/me',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'The gateway rejected the API key: it is unknown or has been revoked. Check the key, or create a new one with "whatsapp-gateway keys create".',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message:
						'No WhatsApp Gateway answered at this Base URL (GET /api/me was not found). Check the Base URL: it should be the gateway root, e.g. http://localhost:3000.',
				},
			},
		],
	};
}
