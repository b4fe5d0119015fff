import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { THREECX_EVENT_TYPES, threeCxWebhookPath, type ThreeCxEventType } from '../lib/threecx';
import { gatewayApiError, gatewayApiRequest, gatewayErrorBody, isSuccess } from '../lib/transport';
import { eventDescription } from './resources/event';
import { EVENT_FIELDS } from './resources/event/fields';

const CREDENTIAL = 'whatsAppGateway3CxApi';

export class WhatsAppGateway3Cx implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WhatsApp Gateway 3CX',
		name: 'whatsAppGateway3Cx',
		icon: {
			light: 'file:../../icons/whatsapp-gateway.svg',
			dark: 'file:../../icons/whatsapp-gateway.dark.svg',
		},
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"]}}',
		description:
			'Send 3CX call and chat events to your WhatsApp Gateway: missed-call, voicemail and after-hours replies, agent replies',
		defaults: {
			name: 'WhatsApp Gateway 3CX',
		},
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: CREDENTIAL,
				required: true,
			},
		],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: '3CX Event',
						value: 'event',
					},
				],
				default: 'event',
			},
			...eventDescription,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];

		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const eventType = this.getNodeParameter('operation', itemIndex) as ThreeCxEventType;
				if (!(THREECX_EVENT_TYPES as readonly string[]).includes(eventType)) {
					throw new NodeOperationError(this.getNode(), `The operation "${eventType}" is not known`, { itemIndex });
				}
				const body: IDataObject = { event_type: eventType };
				for (const field of EVENT_FIELDS) {
					if (!field.operations.includes(eventType)) continue;
					const value = this.getNodeParameter(field.parameter, itemIndex, '') as string | number;
					const text = String(value ?? '').trim();
					if (text !== '') body[field.body] = text;
				}
				if (eventType === 'outbound_message' && body.message_text === undefined) {
					throw new NodeOperationError(this.getNode(), 'Message Text is required for an agent reply', { itemIndex });
				}
				const credentials = await this.getCredentials<{ integrationId: number | string }>(CREDENTIAL, itemIndex);
				const response = await gatewayApiRequest.call(this, 'POST', threeCxWebhookPath(credentials.integrationId), {
					body,
					itemIndex,
					credentialType: CREDENTIAL,
				});

				if (isSuccess(response)) {
					returnData.push({ json: response.body as IDataObject, pairedItem: { item: itemIndex } });
				} else if (this.continueOnFail()) {
					returnData.push({
						json: { ...gatewayErrorBody(response), http_status: response.statusCode },
						pairedItem: { item: itemIndex },
					});
				} else {
					throw gatewayApiError(this.getNode(), response, itemIndex);
				}
			} catch (error) {
				if (this.continueOnFail()) {
					returnData.push({
						json: {
							success: false,
							error: error instanceof NodeOperationError ? 'invalid_input' : 'request_failed',
							message: (error as Error).message,
							details: {},
							http_status: null,
						},
						pairedItem: { item: itemIndex },
					});
					continue;
				}
				if (error instanceof NodeApiError) {
					error.context.itemIndex ??= itemIndex;
					throw new NodeApiError(this.getNode(), error as unknown as JsonObject);
				}
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			}
		}

		return [returnData];
	}
}
