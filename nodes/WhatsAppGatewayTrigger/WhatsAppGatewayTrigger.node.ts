import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { STANDARD_WEBHOOK_HEADERS } from '../../contract/src/signature';
import { gatewayApiError, gatewayApiRequest, isSuccess } from '../lib/transport';
import { searchInstances } from '../lib/searchInstances';
import { checkDelivery, rememberDelivery, type DeliveryMemory } from './delivery-check';
import { EVENT_GROUP_FIELDS, EVENT_GROUP_NAMES } from './events';

export { REMEMBERED_DELIVERIES, MAX_REPLAY_WINDOW_IDS } from './delivery-check';

/** What the node keeps between activation and deactivation. */
interface TriggerStaticData extends DeliveryMemory {
	webhookId?: string;
	webhookSecret?: string;
	/** The Instance selection the subscription was created for ('' for all instances). */
	webhookInstance?: string;
	/**
	 * The gateway said its deliveries carry the Standard Webhooks signature (`signature_headers`), so one
	 * without it is refused: stripping it must not fall back to the seed's signature, which leaves the id unsigned.
	 */
	standardWebhooks?: boolean;
}

/** True when the gateway lists the Standard Webhooks signature among the headers it signs deliveries in. */
function signsStandardWebhooks(webhook: GatewayWebhook): boolean {
	return (webhook.signature_headers ?? []).includes(STANDARD_WEBHOOK_HEADERS.signature);
}

function forgetSubscription(data: TriggerStaticData): void {
	delete data.webhookId;
	delete data.webhookSecret;
	delete data.webhookInstance;
	delete data.standardWebhooks;
}

/** A subscription as `GET /api/webhooks/{id}` returns it. */
export interface GatewayWebhook {
	id: string;
	destination_url: string;
	events: string[];
	instance_id: string | null;
	enabled: boolean;
	/** The headers every delivery is signed in (gateways without Standard Webhooks do not send the field). */
	signature_headers?: string[];
}

function selectedEvents(context: IHookFunctions | IWebhookFunctions): string[] {
	const events = EVENT_GROUP_NAMES.flatMap((name) => context.getNodeParameter(name, []) as string[]);
	return [...new Set(events)].sort();
}

function selectedInstance(context: IHookFunctions): string | undefined {
	const value = context.getNodeParameter('instance', '', { extractValue: true }) as string;
	return value.trim() === '' ? undefined : value.trim();
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
				// A subscription made before the gateway signed Standard Webhooks is held to it once it does.
				if (same && signsStandardWebhooks(webhook)) data.standardWebhooks = true;
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
				if (signsStandardWebhooks(created.webhook)) data.standardWebhooks = true;
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
		const nowSeconds = Math.floor(Date.now() / 1000);
		const check = checkDelivery({
			headers: request.headers,
			rawBody: (request as unknown as { rawBody?: Buffer | string }).rawBody ?? '',
			secret: data.webhookSecret ?? '',
			requireStandard: data.standardWebhooks === true,
			nowSeconds,
		});
		if (!check.valid) {
			this.getResponseObject().status(401).json({ success: false, error: 'invalid_signature' }).end();
			return { noWebhookResponse: true };
		}
		const payload = this.getBodyData() as IDataObject;
		if (!selectedEvents(this).includes(String(payload.event))) return {};
		// Deliveries are at least once, and a captured one may be replayed: an id already emitted is acknowledged
		// and starts nothing. n8n saves changed static data after each production webhook call (docs/design-notes.md).
		const seen = rememberDelivery(data, check.deliveryId, check.signedTimestamp, nowSeconds);
		if (seen === 'duplicate') return { webhookResponse: { success: true, duplicate: true } };
		if (seen === 'undecidable') {
			// Not a 2xx, so the gateway tries again later with a fresh timestamp, which is then decidable.
			this.getResponseObject().status(409).json({ success: false, error: 'replay_window_full' }).end();
			return { noWebhookResponse: true };
		}
		return {
			workflowData: [this.helpers.returnJsonArray([{ ...payload, delivery_id: check.deliveryId ?? null }])],
		};
	}
}
