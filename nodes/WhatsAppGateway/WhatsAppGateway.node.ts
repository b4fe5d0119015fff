import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { gatewayApiError, gatewayApiRequest, gatewayErrorBody, isSuccess } from '../lib/transport';
import { searchInstances } from '../lib/searchInstances';
import { messageDescription } from './resources/message';
import { buildSendRequest } from './resources/message/sendRequest';

export class WhatsAppGateway implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WhatsApp Gateway',
		name: 'whatsAppGateway',
		icon: {
			light: 'file:../../icons/whatsapp-gateway.svg',
			dark: 'file:../../icons/whatsapp-gateway.dark.svg',
		},
		group: ['output'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Send transactional, operational, support, internal and authentication WhatsApp messages through your WhatsApp Gateway',
		defaults: {
			name: 'WhatsApp Gateway',
		},
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'whatsAppGatewayApi',
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
						name: 'Message',
						value: 'message',
					},
				],
				default: 'message',
			},
			...messageDescription,
		],
	};

	methods = {
		listSearch: {
			searchInstances,
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const returnData: INodeExecutionData[] = [];
		const runIndex = Number(this.getWorkflowDataProxy(0).$thisRunIndex) || 0;

		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const { body, idempotencyKey } = await buildSendRequest.call(this, itemIndex, runIndex);
				const response = await gatewayApiRequest.call(this, 'POST', '/api/send-message', {
					body,
					headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined,
					itemIndex,
				});

				if (isSuccess(response)) {
					const sent = response.body as IDataObject;
					returnData.push({
						json: {
							success: sent.success,
							status: sent.status,
							message_id: sent.message_id,
							log_id: sent.log_id,
						},
						pairedItem: { item: itemIndex },
					});
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
					// Also the connection failures n8n's request helper wraps, which know no item.
					error.context.itemIndex ??= itemIndex;
					throw new NodeApiError(this.getNode(), error as unknown as JsonObject);
				}
				throw new NodeOperationError(this.getNode(), error as Error, { itemIndex });
			}
		}

		return [returnData];
	}
}
