import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	Icon,
	INodeProperties,
} from 'n8n-workflow';
import { signThreeCxRequest } from '../nodes/lib/threecx';

/**
 * A 3CX integration of a self-hosted WhatsApp Gateway: where it posts 3CX events, the integration's
 * webhook secret (sent as X-WhatsApp-Gateway-3CX-Secret) and, when the integration requires it, the
 * HMAC secret every request is signed with. The credential test sends the `test` event, like the
 * Test button of a 3CX CRM template.
 */
export class WhatsAppGateway3CxApi implements ICredentialType {
	name = 'whatsAppGateway3CxApi';

	displayName = 'WhatsApp Gateway 3CX API';

	icon: Icon = {
		light: 'file:../icons/whatsapp-gateway.svg',
		dark: 'file:../icons/whatsapp-gateway.dark.svg',
	};

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-whatsapp-gateway#3cx';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://localhost:3000',
			placeholder: 'e.g. http://localhost:3000',
			description: 'The URL of your WhatsApp Gateway, without a path. It must be reachable from n8n.',
		},
		{
			displayName: 'Integration ID',
			name: 'integrationId',
			type: 'number',
			default: 1,
			required: true,
			description:
				'The number of the 3CX integration, as "whatsapp-gateway 3cx list" shows it (the last part of its webhook URL)',
		},
		{
			displayName: 'Webhook Secret',
			name: 'webhookSecret',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			description:
				'The integration secret (it starts with tcx_), printed once by "whatsapp-gateway 3cx create" or "3cx rotate-secret"',
		},
		{
			displayName: 'HMAC Secret',
			name: 'hmacSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Only if the integration requires signed requests: every request then carries X-WhatsApp-Gateway-Timestamp and X-WhatsApp-Gateway-Signature',
		},
	];

	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> =>
		signThreeCxRequest(
			{ webhookSecret: String(credentials.webhookSecret ?? ''), hmacSecret: String(credentials.hmacSecret ?? '') },
			requestOptions,
			Math.floor(Date.now() / 1000),
		);

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '=/integrations/3cx/webhook/{{$credentials.integrationId}}',
			method: 'POST',
			body: { event_type: 'test' },
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						"The gateway refused the request: check the Integration ID, the Webhook Secret, the HMAC Secret, the integration's IP allowlist, and that n8n's clock is right.",
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'The 3CX module is not enabled for this account.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message:
						'No WhatsApp Gateway answered at this Base URL. It should be the gateway root, e.g. http://localhost:3000.',
				},
			},
		],
	};
}
