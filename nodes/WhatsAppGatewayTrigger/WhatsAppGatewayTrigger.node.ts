import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { SIGNATURE_HEADERS_LOWER, verifySignature } from '../../contract/src/signature';
import { gatewayApiError, gatewayApiRequest, isSuccess } from '../lib/transport';
import { searchInstances } from '../lib/searchInstances';
import { EVENT_GROUP_FIELDS, EVENT_GROUP_NAMES } from './events';

/** What the node keeps between activation and deactivation. */
interface TriggerStaticData {
	webhookId?: string;
	webhookSecret?: string;
	/** The Instance selection the subscription was created for ('' for all instances). */
	webhookInstance?: string;
	/** X-WhatsApp-Gateway-Delivery ids of the latest emitted deliveries, oldest first. */
	recentDeliveryIds?: string[];
}

/**
 * How many delivery ids the trigger remembers. The gateway retries one delivery over about 28 hours; a
 * repeat arrives only after an attempt got no 2xx, so a window of the latest deliveries covers it.
 */
export const REMEMBERED_DELIVERIES = 100;

function forgetSubscription(data: TriggerStaticData): void {
	delete data.webhookId;
	delete data.webhookSecret;
	delete data.webhookInstance;
}

/** A subscription as `GET /api/webhooks/{id}` returns it. */
export interface GatewayWebhook {
	id: string;
	destination_url: string;
	events: string[];
	instance_id: string | null;
	enabled: boolean;
}

function selectedEvents(context: IHookFunctions | IWebhookFunctions): string[] {
	const events = EVENT_GROUP_NAMES.flatMap((name) => context.getNodeParameter(name, []) as string[]);
	return [...new Set(events)].sort();
}

function selectedInstance(context: IHookFunctions): string | undefined {
	const value = context.getNodeParameter('instance', '', { extractValue: true }) as string;
	return value.trim() === '' ? undefined : value.trim();
}

function header(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

export class WhatsAppGatewayTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'WhatsApp Gateway Trigger',
		name: 'whatsAppGatewayTrigger',
		icon: {
			light: 'file:../../icons/whatsapp-gateway.svg',
			dark: 'file:../../icons/whatsapp-gateway.dark.svg',
		},
		group: ['trigger'],
		version: 1,
		subtitle: '={{"WhatsApp Gateway events"}}',
		description: 'Starts the workflow when your WhatsApp Gateway forwards an event (signed deliveries only)',
		defaults: {
			name: 'WhatsApp Gateway Trigger',
		},
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'whatsAppGatewayApi',
				required: true,
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties: [
			{
				displayName:
					'The trigger subscribes itself at the gateway when the workflow is activated, and checks the signature of every delivery: unsigned or tampered requests get 401 and start nothing.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			...EVENT_GROUP_FIELDS,
			{
				displayName: 'Instance',
				name: 'instance',
				type: 'resourceLocator',
				default: { mode: 'list', value: '' },
				description: 'Only events of this instance. Leave empty for all instances of the account.',
				modes: [
					{
						displayName: 'From List',
						name: 'list',
						type: 'list',
						typeOptions: { searchListMethod: 'searchInstances', searchable: true },
					},
					{
						displayName: 'ID or Name',
						name: 'id',
						type: 'string',
						placeholder: 'demo-support-line',
					},
				],
			},
		],
	};

	methods = {
		listSearch: { searchInstances },
	};

	webhookMethods = {
		default: {
			/** True when the gateway still has our subscription, for this URL, these events and this instance. */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as TriggerStaticData;
				if (!data.webhookId) return false;
				const response = await gatewayApiRequest.call(
					this,
					'GET',
					`/api/webhooks/${encodeURIComponent(data.webhookId)}`,
				);
				if (response.statusCode === 404) {
					forgetSubscription(data);
					return false;
				}
				if (!isSuccess(response)) throw gatewayApiError(this.getNode(), response);
				const { webhook } = response.body as { webhook: GatewayWebhook };
				const same =
					webhook.enabled &&
					webhook.destination_url === this.getNodeWebhookUrl('default') &&
					webhook.events.slice().sort().join(',') === selectedEvents(this).join(',') &&
					// The gateway keeps the instance's id, the node may name it: compare the selection itself.
					(data.webhookInstance ?? '') === (selectedInstance(this) ?? '') &&
					data.webhookSecret !== undefined;
				if (!same) {
					// Settings changed since activation: drop the old subscription and let n8n create a new one.
					await gatewayApiRequest.call(this, 'DELETE', `/api/webhooks/${encodeURIComponent(data.webhookId)}`);
					forgetSubscription(data);
				}
				return same;
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const events = selectedEvents(this);
				if (events.length === 0) {
					throw new NodeOperationError(this.getNode(), 'Select at least one event to listen for');
				}
				const body: IDataObject = { destination_url: this.getNodeWebhookUrl('default'), events };
				const instance = selectedInstance(this);
				if (instance) body.instance_id = instance;
				const response = await gatewayApiRequest.call(this, 'POST', '/api/webhooks', { body });
				if (!isSuccess(response)) throw gatewayApiError(this.getNode(), response);
				const created = response.body as { webhook: GatewayWebhook; signing_secret: string };
				const data = this.getWorkflowStaticData('node') as TriggerStaticData;
				data.webhookId = created.webhook.id;
				data.webhookSecret = created.signing_secret;
				data.webhookInstance = instance ?? '';
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as TriggerStaticData;
				if (data.webhookId) {
					const response = await gatewayApiRequest.call(
						this,
						'DELETE',
						`/api/webhooks/${encodeURIComponent(data.webhookId)}`,
					);
					if (!isSuccess(response) && response.statusCode !== 404) return false;
				}
				forgetSubscription(data);
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const data = this.getWorkflowStaticData('node') as TriggerStaticData;
		// Verified before anything else, over the raw bytes; no secret means no delivery is trusted.
		const check = verifySignature({
			secret: data.webhookSecret ?? '',
			timestamp: header(request.headers[SIGNATURE_HEADERS_LOWER.timestamp]),
			signature: header(request.headers[SIGNATURE_HEADERS_LOWER.signature]),
			rawBody: (request as unknown as { rawBody?: Buffer | string }).rawBody ?? '',
			nowSeconds: Math.floor(Date.now() / 1000),
		});
		if (!check.valid) {
			this.getResponseObject().status(401).json({ success: false, error: 'invalid_signature' }).end();
			return { noWebhookResponse: true };
		}
		const payload = this.getBodyData() as IDataObject;
		if (!selectedEvents(this).includes(String(payload.event))) return {};
		const deliveryId = header(request.headers[SIGNATURE_HEADERS_LOWER.delivery]);
		// Deliveries are at least once: a repeat of one already emitted is acknowledged and starts nothing.
		// n8n saves changed static data after each production webhook call (README "Duplicate deliveries").
		if (deliveryId) {
			const seen = data.recentDeliveryIds ?? [];
			if (seen.includes(deliveryId)) return { webhookResponse: { success: true, duplicate: true } };
			data.recentDeliveryIds = [...seen, deliveryId].slice(-REMEMBERED_DELIVERIES);
		}
		return {
			workflowData: [this.helpers.returnJsonArray([{ ...payload, delivery_id: deliveryId ?? null }])],
		};
	}
}
