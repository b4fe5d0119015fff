/**
 * The WhatsApp Gateway 3CX node and its credential as n8n runs them (n8n-core's WorkflowExecute, the
 * credential's authentication applied like n8n's CLI does), against a real gateway on loopback with a
 * 3CX integration, behind the recording proxy that shows what went over the wire.
 */
import type { INode, INodeParameters } from 'n8n-workflow';
import { verifySignature } from '../../contract/src/signature';
import { listen } from '../helpers/gateway';
import {
	createNode,
	executeNode,
	NODE_TYPES,
	testCredential,
	type CredentialData,
	type NodeRunResult,
} from '../helpers/n8n-harness';
import { startGatewayProxy, type GatewayProxy } from '../helpers/n8n-proxy';
import { createThreecxGateway, CUSTOMER, type ThreecxTestGateway } from '../helpers/threecx';

const HMAC_SECRET = 'hmac-secret-for-the-node-tests-01';

let t: ThreecxTestGateway;
let server: { url: string; close: () => Promise<void> };
let proxy: GatewayProxy;

async function start(options: Parameters<typeof createThreecxGateway>[0] = {}): Promise<void> {
	t = await createThreecxGateway(options);
	// n8n signs with its own clock: the gateway's must agree within ±300 s.
	t.clock.set(new Date().toISOString());
	server = await listen(t.gateway.createApp().callback());
	proxy = await startGatewayProxy(server.url);
}

afterEach(async () => {
	await proxy?.close();
	await server?.close();
	t?.close();
});

const credentials = (overrides: Record<string, unknown> = {}): CredentialData => ({
	whatsAppGateway3CxApi: {
		baseUrl: `${proxy.url}/`,
		integrationId: t.integrationId,
		webhookSecret: t.secret,
		hmacSecret: '',
		...overrides,
	},
});

function node(operation: string, parameters: INodeParameters = {}, settings: Partial<INode> = {}): INode {
	return createNode(NODE_TYPES.threecx, { resource: 'event', operation, ...parameters }, settings);
}

async function run(
	operation: string,
	parameters: INodeParameters = {},
	options: { settings?: Partial<INode>; credentials?: CredentialData } = {},
): Promise<NodeRunResult> {
	return await executeNode({
		node: node(operation, parameters, options.settings),
		credentials: options.credentials ?? credentials(),
		items: [{ json: {} }],
	});
}

const webhookRequests = () =>
	proxy.exchanges.filter((exchange) => exchange.path.startsWith('/integrations/3cx/webhook/'));

describe('the credential test (event_type "test")', () => {
	it('passes with the right secret, signed when the credential has an HMAC secret', async () => {
		await start({ integration: { hmacSecret: HMAC_SECRET } });
		expect(await testCredential('whatsAppGateway3CxApi', credentials({ hmacSecret: HMAC_SECRET }))).toMatchObject({
			status: 'OK',
		});
		const [request] = webhookRequests();
		expect(request.body).toEqual({ event_type: 'test' });
		expect(request.headers['x-whatsapp-gateway-3cx-secret']).toBe(t.secret);
	});

	it('fails with the rule message for a wrong secret, a missing signature, a wrong integration id', async () => {
		await start({ integration: { hmacSecret: HMAC_SECRET } });
		for (const overrides of [
			{ webhookSecret: 'tcx_wrong', hmacSecret: HMAC_SECRET },
			{},
			{ integrationId: 999, hmacSecret: HMAC_SECRET },
		]) {
			const result = await testCredential('whatsAppGateway3CxApi', credentials(overrides));
			expect(result).toEqual({
				status: 'Error',
				message: expect.stringContaining('The gateway refused the request'),
				output: [],
			});
		}
	});
});

describe('operations', () => {
	it('Report Missed Call sends the template for a customer who wrote first; the answer is the output', async () => {
		await start();
		t.customerWrites();
		const result = await run('missed_call', {
			customerPhone: CUSTOMER,
			agentExtension: '101',
			queue: '800',
			callTime: '2026-09-15T10:00:00Z',
			externalMessageId: '3cx-call-9f2c',
		});
		expect(result.status).toBe('success');
		expect(result.output).toEqual([
			{
				json: expect.objectContaining({
					success: true,
					status: 'processed',
					event_type: 'missed_call',
					action: 'sent',
					message_id: expect.any(String),
					customer_phone: CUSTOMER,
				}),
				pairedItem: { item: 0 },
			},
		]);
		expect(webhookRequests()[0].body).toEqual({
			event_type: 'missed_call',
			customer_phone: CUSTOMER,
			agent_extension: '101',
			queue: '800',
			call_time: '2026-09-15T10:00:00Z',
			external_message_id: '3cx-call-9f2c',
		});
		expect(t.providerSends).toEqual([{ to: CUSTOMER, text: expect.stringContaining('Acme Support') }]);
	});

	it('with an HMAC secret every request is signed over the bytes sent (sha256=…, current timestamp)', async () => {
		await start({ integration: { hmacSecret: HMAC_SECRET } });
		t.customerWrites();
		const result = await run(
			'outbound_message',
			{
				to: CUSTOMER,
				messageText: 'Your support request has been updated.',
				messagePurpose: 'support',
				conversationId: '3cx-chat-123',
				agentExtension: '101',
			},
			{ credentials: credentials({ hmacSecret: HMAC_SECRET }) },
		);
		expect(result.output[0].json).toMatchObject({ event_type: 'outbound_message', action: 'sent' });
		const [request] = webhookRequests();
		const check = verifySignature({
			secret: HMAC_SECRET,
			timestamp: request.headers['x-whatsapp-gateway-timestamp'] as string,
			signature: request.headers['x-whatsapp-gateway-signature'] as string,
			rawBody: request.raw,
			nowSeconds: Math.floor(Date.now() / 1000),
		});
		expect(check).toEqual({ valid: true });
	});

	it('every operation sends its event type with only its own fields, empty ones left out', async () => {
		await start();
		t.customerWrites();
		const all: [string, INodeParameters][] = [
			['test', {}],
			[
				'inbound_reply',
				{
					customerPhone: CUSTOMER,
					messageText: 'Thanks',
					conversationId: '3cx-chat-123',
					externalMessageId: 'wa-in-0001',
				},
			],
			['call_started', { customerPhone: CUSTOMER, agentExtension: '101', callTime: '2026-09-15T10:00:00Z' }],
			[
				'call_ended',
				{ customerPhone: CUSTOMER, agentExtension: '101', queue: '800', duration: '00:02:05', callType: 'Notanswered' },
			],
			['voicemail', { customerPhone: CUSTOMER, callTime: '2026-09-15T19:30:00Z' }],
			['queue_event', { customerPhone: CUSTOMER, queue: '800' }],
			['queue_callback', { customerPhone: CUSTOMER, queue: '800' }],
			['after_hours', { customerPhone: CUSTOMER, callTime: '2026-09-15T22:10:00Z' }],
		];
		for (const [operation, parameters] of all) {
			t.clock.advance(60_000);
			const result = await run(operation, { ...parameters, to: 'ignored for this operation' });
			expect({ operation, status: result.status }).toEqual({ operation, status: 'success' });
		}
		expect(webhookRequests().map((request) => request.body)).toEqual([
			{ event_type: 'test' },
			{
				event_type: 'inbound_reply',
				customer_phone: CUSTOMER,
				message_text: 'Thanks',
				conversation_id: '3cx-chat-123',
				external_message_id: 'wa-in-0001',
			},
			{
				event_type: 'call_started',
				customer_phone: CUSTOMER,
				agent_extension: '101',
				call_time: '2026-09-15T10:00:00Z',
			},
			{
				event_type: 'call_ended',
				customer_phone: CUSTOMER,
				agent_extension: '101',
				queue: '800',
				duration: '00:02:05',
				call_type: 'Notanswered',
			},
			{ event_type: 'voicemail', customer_phone: CUSTOMER, call_time: '2026-09-15T19:30:00Z' },
			{ event_type: 'queue_event', customer_phone: CUSTOMER, queue: '800' },
			{ event_type: 'queue_callback', customer_phone: CUSTOMER, queue: '800' },
			{ event_type: 'after_hours', customer_phone: CUSTOMER, call_time: '2026-09-15T22:10:00Z' },
		]);
	});
});

describe('refusals', () => {
	it('a closed conversation window fails the run with a NodeApiError naming the code', async () => {
		await start();
		const result = await run('missed_call', { customerPhone: CUSTOMER });
		expect(result.status).toBe('error');
		expect(result.error).toMatchObject({
			name: 'NodeApiError',
			message:
				'conversation_window_closed: The recipient has not messaged first or the last inbound WhatsApp message is outside the active conversation window.',
			httpCode: '403',
			context: { itemIndex: 0 },
		});
	});

	it('Continue On Fail: the refusal becomes the item, paired', async () => {
		await start();
		const result = await run(
			'missed_call',
			{ customerPhone: CUSTOMER },
			{ settings: { onError: 'continueRegularOutput' } },
		);
		expect(result.status).toBe('success');
		expect(result.output).toEqual([
			{
				json: expect.objectContaining({ success: false, error: 'conversation_window_closed', http_status: 403 }),
				pairedItem: { item: 0 },
			},
		]);
	});

	it('an agent reply without text is a NodeOperationError before any request', async () => {
		await start();
		const result = await run('outbound_message', { to: CUSTOMER, messageText: '  ' });
		expect(result.error).toMatchObject({
			name: 'NodeOperationError',
			message: 'Message Text is required for an agent reply',
		});
		expect(webhookRequests()).toEqual([]);
	});
});
