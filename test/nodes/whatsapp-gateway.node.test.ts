/**
 * The WhatsApp Gateway node as n8n runs it: a workflow executed by n8n-core's WorkflowExecute
 * (test/helpers/n8n-harness.ts), its requests sent by n8n-core's HTTP client with the credential
 * applied like n8n's CLI does, to the real gateway on a loopback port (sandbox provider). A recording
 * proxy in between (test/helpers/n8n-proxy.ts) shows what went over the wire and can lose an answer.
 */
import { Container } from '@n8n/di';
import { InstanceSettings, WorkflowHasIssuesError } from 'n8n-core';
import type { INode, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { ERROR_TABLE, type ErrorCode } from '../../server/src/http/errors';
import type { SandboxSend } from '../../server/src/providers/sandbox';
import { createTestGateway, listen, PHONE, sendBody, type TestGateway } from '../helpers/gateway';
import {
	binaryItem,
	createNode,
	executeNode,
	listSearch,
	NODE_TYPES,
	type CredentialData,
	type NodeRunResult,
} from '../helpers/n8n-harness';
import { startGatewayProxy, type GatewayProxy } from '../helpers/n8n-proxy';

const OTHER_PHONE = '+966501234568';
/** The smallest file a PDF reader opens; enough for the gateway, which only checks base64 and size. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n', 'latin1');
const TEXT = 'Your order #2041 has shipped.';

let t: TestGateway;
let server: { url: string; close: () => Promise<void> };
let proxy: GatewayProxy;
let sent: SandboxSend[];

async function startGateway(options: Parameters<typeof createTestGateway>[0] = {}): Promise<void> {
	t = createTestGateway(options);
	server = await listen(t.gateway.createApp().callback());
	proxy = await startGatewayProxy(server.url);
	sent = [];
	t.sandbox.onSend((send) => sent.push(send));
}

async function stopGateway(): Promise<void> {
	await proxy.close();
	await server.close();
	t.close();
}

/** For the tests that need another account or sandbox set-up than the default one. */
async function restartGateway(options: Parameters<typeof createTestGateway>[0]): Promise<void> {
	await stopGateway();
	await startGateway(options);
}

beforeEach(() => startGateway());
afterEach(() => stopGateway());

/** A trailing slash, as users paste it: the node must still call "/api/send-message". */
const credentials = (apiKey = t.apiKey): CredentialData => ({
	whatsAppGatewayApi: { baseUrl: `${proxy.url}/`, apiKey },
});

function sendNode(parameters: INodeParameters = {}, settings: Partial<INode> = {}): INode {
	return createNode(
		NODE_TYPES.send,
		{
			instanceId: { __rl: true, mode: 'list', value: t.instanceId },
			phone: PHONE,
			messagePurpose: 'transactional',
			message: TEXT,
			...parameters,
		},
		settings,
	);
}

interface RunOptions {
	parameters?: INodeParameters;
	settings?: Partial<INode>;
	items?: INodeExecutionData[];
	credentials?: CredentialData;
	executionId?: string;
	runIndex?: number;
}

async function run(options: RunOptions = {}): Promise<NodeRunResult> {
	return await executeNode({
		node: sendNode(options.parameters, options.settings),
		credentials: options.credentials ?? credentials(),
		items: options.items,
		executionId: options.executionId,
		runIndex: options.runIndex,
	});
}

const sendRequests = () => proxy.exchanges.filter((exchange) => exchange.path === '/api/send-message');

function expectRefusal(result: NodeRunResult, code: ErrorCode, itemIndex = 0): void {
	expect(result.status).toBe('error');
	expect(result.output).toEqual([]);
	expect(result.error).toMatchObject({
		name: 'NodeApiError',
		message: `${code}: ${ERROR_TABLE[code].message}`,
		httpCode: String(ERROR_TABLE[code].status),
		context: { itemIndex },
		errorResponse: { success: false, error: code, message: ERROR_TABLE[code].message, details: expect.any(Object) },
	});
}

describe('send a text message', () => {
	it('outputs success, status, message_id and log_id paired with the item; the sandbox got the text', async () => {
		const result = await run();

		expect(result.status).toBe('success');
		expect(result.output).toEqual([
			{
				json: {
					success: true,
					status: 'sent',
					message_id: expect.stringMatching(/^sandbox\./),
					log_id: expect.any(Number),
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(sent).toEqual([
			expect.objectContaining({ messageId: result.output[0].json.message_id, to: PHONE, text: TEXT, media: undefined }),
		]);
		const [request] = proxy.exchanges;
		expect(request).toMatchObject({ method: 'POST', path: '/api/send-message' });
		expect(request.headers.authorization).toBe(`Bearer ${t.apiKey}`);
		expect(request.headers['content-type']).toMatch(/^application\/json/);
		expect(request.body).toEqual({
			instance_id: t.instanceId,
			phone: PHONE,
			message: TEXT,
			message_purpose: 'transactional',
		});
	});

	it('accepts the instance by name (mode "By ID or Name"), one request per item, the phone from an expression', async () => {
		const result = await run({
			parameters: { instanceId: { __rl: true, mode: 'id', value: 'demo-support-line' }, phone: '={{ $json.phone }}' },
			items: [{ json: { phone: PHONE } }, { json: { phone: OTHER_PHONE } }],
		});

		expect(result.output.map((item) => [item.json.status, item.pairedItem])).toEqual([
			['sent', { item: 0 }],
			['sent', { item: 1 }],
		]);
		expect(sent.map((send) => send.to)).toEqual([PHONE, OTHER_PHONE]);
	});
});

describe('Idempotency-Key', () => {
	it("is derived from the n8n instance, the execution, the node, the node's run and the item", async () => {
		const result = await run({ items: [{ json: {} }, { json: {} }], executionId: '4711', runIndex: 2 });

		expect(result.status).toBe('success');
		const instance = Container.get(InstanceSettings).instanceId.slice(0, 16);
		const node = sendNode().id;
		expect(sendRequests().map((exchange) => exchange.headers['idempotency-key'])).toEqual([
			`n8n:${instance}:4711:${node}:2:0`,
			`n8n:${instance}:4711:${node}:2:1`,
		]);
	});

	it('the same execution run again gets the first answer back and sends nothing', async () => {
		const first = await run({ executionId: '4711' });
		const second = await run({ executionId: '4711' });

		expect(second.status).toBe('success');
		expect(second.output).toEqual(first.output);
		expect(second.output[0].json.log_id).toBe(first.output[0].json.log_id);
		expect(sent).toHaveLength(1);
		expect(sendRequests()[1].response?.headers['idempotent-replayed']).toBe('true');
	});

	it('another execution, or another run of the node in a loop, sends again', async () => {
		const first = await run({ executionId: '4711', parameters: { message: 'Your code is 4711.' } });
		const loop = await run({ executionId: '4711', runIndex: 1, parameters: { message: 'Your code is 4711.' } });
		// To another recipient: a third message to the first one within seconds would be throttled.
		const next = await run({ executionId: '4712', parameters: { phone: OTHER_PHONE, message: 'Your code is 4712.' } });

		expect(new Set([first, loop, next].map((result) => result.output[0].json.log_id)).size).toBe(3);
		expect(sent).toHaveLength(3);
	});

	it('the Idempotency Key option replaces the derived key, across executions', async () => {
		await run({ parameters: { options: { idempotencyKey: 'order-2041-shipped' } } });
		const again = await run({ parameters: { options: { idempotencyKey: 'order-2041-shipped' } } });

		expect(again.status).toBe('success');
		expect(sendRequests().map((exchange) => exchange.headers['idempotency-key'])).toEqual([
			'order-2041-shipped',
			'order-2041-shipped',
		]);
		expect(sent).toHaveLength(1);
	});

	it('an override the gateway would refuse is a NodeOperationError before any request', async () => {
		const result = await run({ parameters: { options: { idempotencyKey: 'order 2041' } } });

		expect(result.status).toBe('error');
		expect(result.error).toMatchObject({ name: 'NodeOperationError', message: 'The Idempotency Key is not valid' });
		expect(proxy.exchanges).toHaveLength(0);
	});
});

describe('Retry On Fail when the answer is lost', () => {
	it('without it, the run fails although the gateway sent the message', async () => {
		proxy.loseNextAnswers(1);
		const result = await run();

		expect(result.status).toBe('error');
		expect(result.error).toMatchObject({
			name: 'NodeApiError',
			message: expect.stringMatching(/^The connection to the server was closed unexpectedly/),
			context: { itemIndex: 0 },
		});
		expect(sent).toHaveLength(1);
	});

	it("n8n's retry gets the first send's answer back: one message, a successful output", async () => {
		proxy.loseNextAnswers(1);
		// n8n reads a wait of 0 as "not set" and waits its default second before the retry.
		const result = await run({ settings: { retryOnFail: true, maxTries: 3, waitBetweenTries: 0 } });

		expect(result.status).toBe('success');
		expect(sent).toHaveLength(1);
		expect(result.output).toEqual([
			{
				json: { success: true, status: 'sent', message_id: sent[0].messageId, log_id: expect.any(Number) },
				pairedItem: { item: 0 },
			},
		]);
		const [lost, retry] = sendRequests();
		expect(sendRequests()).toHaveLength(2);
		expect(lost.lost).toBe(true);
		expect(retry.headers['idempotency-key']).toBe(lost.headers['idempotency-key']);
		expect(retry.response?.headers['idempotent-replayed']).toBe('true');
		expect(retry.response?.body).toEqual(lost.response?.body);
	});
});

describe('media', () => {
	it('a PDF from the binary field reaches the gateway as a document: base64 content, MIME type, file name', async () => {
		const result = await run({
			parameters: { message: 'Your invoice INV-2041 is ready.', sendMedia: true, mediaType: 'document' },
			items: [await binaryItem(PDF, 'INV-2041.pdf')],
		});

		expect(result.output[0].json).toMatchObject({ success: true, status: 'sent' });
		expect(sent).toEqual([
			expect.objectContaining({
				text: 'Your invoice INV-2041 is ready.',
				media: {
					type: 'document',
					mimeType: 'application/pdf',
					fileName: 'INV-2041.pdf',
					url: undefined,
					bytes: PDF.length,
				},
			}),
		]);
		expect(sendRequests()[0].body).toMatchObject({
			media_type: 'document',
			mime_type: 'application/pdf',
			file_name: 'INV-2041.pdf',
			media: PDF.toString('base64'),
		});
	});

	it('File Name overrides the binary file name', async () => {
		await run({
			parameters: { sendMedia: true, mediaType: 'document', fileName: 'Invoice 2041.pdf' },
			items: [await binaryItem(PDF, 'tmp-upload-123.pdf')],
		});

		expect(sent[0].media?.fileName).toBe('Invoice 2041.pdf');
	});

	it('a document without any file name is a NodeOperationError; nothing is sent', async () => {
		// n8n recognises the PDF by its content, but there is no name to show the recipient.
		const item = await binaryItem(PDF);
		expect(item.binary?.data.mimeType).toBe('application/pdf');
		expect(item.binary?.data.fileName).toBeUndefined();
		const result = await run({ parameters: { sendMedia: true, mediaType: 'document' }, items: [item] });

		expect(result.error).toMatchObject({
			name: 'NodeOperationError',
			message: 'A document needs a file name',
			context: { itemIndex: 0 },
		});
		expect(proxy.exchanges).toHaveLength(0);
	});

	it("a binary field that does not exist is n8n's NodeOperationError with the item index", async () => {
		const result = await run({
			parameters: { sendMedia: true, mediaType: 'document', binaryPropertyName: 'invoice' },
			items: [{ json: {} }, await binaryItem(PDF, 'INV-2041.pdf')],
		});

		expect(result.error).toMatchObject({
			name: 'NodeOperationError',
			message:
				"This operation expects the node's input data to contain a binary file 'invoice', but none was found [item 0]",
			context: { itemIndex: 0 },
		});
		expect(sent).toHaveLength(0);
	});

	it('media from a URL: the URL, the MIME type and the file name taken from the URL', async () => {
		await run({
			parameters: {
				sendMedia: true,
				mediaType: 'document',
				mediaSource: 'url',
				mediaUrl: 'https://files.example.com/invoices/INV-2041.pdf',
				mimeType: 'application/pdf',
			},
		});

		expect(sent[0].media).toEqual({
			type: 'document',
			mimeType: 'application/pdf',
			fileName: 'INV-2041.pdf',
			url: 'https://files.example.com/invoices/INV-2041.pdf',
			bytes: undefined,
		});
	});
});

describe('every refusal that can reach the node fails the run with a NodeApiError', () => {
	interface Refusal {
		code: ErrorCode;
		/** Sets the gateway up to refuse and returns how the node is run. */
		arrange: () => Promise<RunOptions> | RunOptions;
		itemIndex?: number;
		/** The gateway's `details`, known once the gateway is arranged. */
		details: () => Record<string, unknown>;
		/** Sends that went out before the refusal. */
		sent?: number;
	}

	const refusals: Refusal[] = [
		{
			code: 'invalid_api_key',
			arrange: () => ({ credentials: credentials('wg_live_unknown') }),
			details: () => ({}),
		},
		{
			code: 'invalid_instance',
			arrange: () => ({ parameters: { instanceId: { __rl: true, mode: 'id', value: 'no-such-line' } } }),
			details: () => ({ instance_id: 'no-such-line' }),
		},
		{
			code: 'validation_error',
			arrange: () => ({ parameters: { phone: '+9665012' } }),
			details: () => ({ fields: { phone: expect.stringMatching(/^is not a valid phone number/) } }),
		},
		{
			code: 'instance_paused_for_review',
			arrange: () => {
				t.gateway.instances.pause(t.instanceId, 'operator review');
				return {};
			},
			details: () => ({ instance_id: t.instanceId, reason: 'operator review' }),
		},
		{
			code: 'recipient_suppressed',
			arrange: () => {
				t.gateway.suppressions.add(t.accountId, PHONE, 'asked to stop', 'manual');
				return {};
			},
			details: () => ({ phone: PHONE, source: 'manual' }),
		},
		{
			code: 'daily_message_limit_exceeded',
			arrange: async () => {
				await restartGateway({ account: { dailyLimit: 1 } });
				return {
					parameters: { phone: '={{ $json.phone }}', message: '={{ $json.text }}' },
					items: [
						{ json: { phone: PHONE, text: 'Your order #2041 has shipped.' } },
						{ json: { phone: OTHER_PHONE, text: 'Your order #2042 has shipped.' } },
					],
				};
			},
			itemIndex: 1,
			details: () => ({ action: 'block', risk_score: 90, limit: 1, used: 1 }),
			sent: 1,
		},
		{
			code: 'sending_throttled',
			arrange: async () => {
				// Starter: 6 a minute per recipient with a burst of one, on the gateway's fixed clock.
				for (const message of ['Code 1', 'Code 2']) expect((await t.send(sendBody({ message }))).status).toBe(200);
				sent.length = 0;
				return { parameters: { message: 'Code 3' } };
			},
			details: () => ({
				action: 'throttle',
				risk_score: 60,
				scope: 'recipient',
				limit: 6,
				used: 2,
				burst: 2,
				window_seconds: 60,
				retry_after_seconds: 10,
			}),
		},
		{
			code: 'policy_violation',
			arrange: () => ({ parameters: { message: 'Limited time promotion: buy now!' } }),
			details: () => ({ action: 'block', risk_score: 70, threshold: 70, reasons: ['marketing_language'] }),
		},
		{
			code: 'gateway_send_failed',
			arrange: async () => {
				await restartGateway({ sandbox: { failNumbers: [PHONE] } });
				return {};
			},
			details: () => ({ log_id: expect.any(Number) }),
		},
	];

	it.each(refusals.map((refusal) => [refusal.code, refusal] as const))(
		'%s: the code and message, the HTTP status, the details in the description',
		async (code, refusal) => {
			const result = await run(await refusal.arrange());

			expectRefusal(result, code, refusal.itemIndex);
			const details = result.error?.errorResponse?.details as Record<string, unknown>;
			expect(details).toEqual(refusal.details());
			const description = result.error?.description;
			if (Object.keys(details).length > 0) expect(description).toContain(`Details: ${JSON.stringify(details)}`);
			else expect(description).toBe(`HTTP ${ERROR_TABLE[code].status}`);
			if (ERROR_TABLE[code].status === 429) {
				const retryAfter = sendRequests().at(-1)?.response?.headers['retry-after'];
				expect(retryAfter).toMatch(/^\d+$/);
				expect(description).toMatch(new RegExp(`Retry after ${String(retryAfter)} s\\.$`));
			}
			expect(sent).toHaveLength(refusal.sent ?? 0);
		},
	);

	it('no purpose chosen: n8n itself refuses to start the workflow (a required parameter is empty)', async () => {
		await expect(run({ parameters: { messagePurpose: '' } })).rejects.toThrow(WorkflowHasIssuesError);
		expect(proxy.exchanges).toHaveLength(0);
	});

	it('a purpose expression that resolves to nothing is a NodeOperationError before any request', async () => {
		const result = await run({ parameters: { messagePurpose: '={{ $json.purpose }}' }, items: [{ json: {} }] });

		expect(result.error).toMatchObject({
			name: 'NodeOperationError',
			message: 'Choose a Message Purpose',
			context: { itemIndex: 0 },
		});
		expect(proxy.exchanges).toHaveLength(0);
	});

	it('a server that is not a WhatsApp Gateway: unexpected_response with the status', async () => {
		const other = await listen((_req, res) => {
			res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
		});
		try {
			const result = await run({ credentials: { whatsAppGatewayApi: { baseUrl: other.url, apiKey: t.apiKey } } });

			expect(result.error).toMatchObject({
				name: 'NodeApiError',
				message: expect.stringMatching(
					/^unexpected_response: The server at the credential's Base URL answered HTTP 404/,
				),
				httpCode: '404',
			});
		} finally {
			await other.close();
		}
	});

	it('a gateway that is down: NodeApiError for the item', async () => {
		const gone = await listen(() => undefined);
		await gone.close();
		const result = await run({ credentials: { whatsAppGatewayApi: { baseUrl: gone.url, apiKey: t.apiKey } } });

		expect(result.error).toMatchObject({
			name: 'NodeApiError',
			message: 'The service refused the connection - perhaps it is offline',
			context: { itemIndex: 0 },
		});
	});
});

describe('Continue On Fail', () => {
	it.each([
		['On Error: Continue', { onError: 'continueRegularOutput' }],
		['the older Continue On Fail', { continueOnFail: true }],
	] as const)(
		'%s: a refusal becomes an item with the gateway error and http_status; the next item is sent',
		async (_label, settings) => {
			t.gateway.suppressions.add(t.accountId, PHONE, 'asked to stop', 'manual');
			const result = await run({
				parameters: { phone: '={{ $json.phone }}' },
				items: [{ json: { phone: PHONE } }, { json: { phone: OTHER_PHONE } }],
				settings,
			});

			expect(result.status).toBe('success');
			expect(result.output).toEqual([
				{
					json: {
						success: false,
						error: 'recipient_suppressed',
						message: ERROR_TABLE.recipient_suppressed.message,
						details: { phone: PHONE, source: 'manual' },
						http_status: 403,
					},
					pairedItem: { item: 0 },
				},
				{ json: expect.objectContaining({ success: true, status: 'sent' }), pairedItem: { item: 1 } },
			]);
			expect(sent.map((send) => send.to)).toEqual([OTHER_PHONE]);
		},
	);

	it('bad input becomes an invalid_input item', async () => {
		const result = await run({
			parameters: { sendMedia: true, mediaType: 'image' },
			settings: { onError: 'continueRegularOutput' },
		});

		expect(result.output).toEqual([
			{
				json: {
					success: false,
					error: 'invalid_input',
					message:
						"This operation expects the node's input data to contain a binary file 'data', but none was found [item 0]",
					details: {},
					http_status: null,
				},
				pairedItem: { item: 0 },
			},
		]);
	});
});

describe('Instance list (listSearch)', () => {
	it('lists the account\'s instances as "Display Name (name)" with the instance id as value, filtered by the search text', async () => {
		const billing = t.gateway.instances.create({
			accountId: t.accountId,
			name: 'billing-line',
			displayName: 'Billing',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const search = (filter?: string) =>
			listSearch({ node: sendNode(), credentials: credentials(), parameter: 'instanceId', filter });

		expect(await search()).toEqual({
			results: expect.arrayContaining([
				{ name: 'Demo Support Line (demo-support-line)', value: t.instanceId },
				{ name: 'Billing (billing-line)', value: billing.id },
			]),
		});
		expect(await search('SUPPORT')).toEqual({
			results: [{ name: 'Demo Support Line (demo-support-line)', value: t.instanceId }],
		});
		expect(await search('nothing like it')).toEqual({ results: [] });
		expect(proxy.exchanges[0]).toMatchObject({ method: 'GET', path: '/api/instances' });
		expect(proxy.exchanges[0].headers.authorization).toBe(`Bearer ${t.apiKey}`);
	});

	it('a wrong key is a NodeApiError the editor shows', async () => {
		await expect(
			listSearch({ node: sendNode(), credentials: credentials('wg_live_unknown'), parameter: 'instanceId' }),
		).rejects.toMatchObject({
			name: 'NodeApiError',
			message: `invalid_api_key: ${ERROR_TABLE.invalid_api_key.message}`,
			httpCode: '401',
		});
	});
});
