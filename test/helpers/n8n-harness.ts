/**
 * Runs our nodes through the published n8n-core, the way an n8n 1.x instance does, with real HTTP:
 *
 * - `executeNode()`: a one-node workflow run by n8n-core's `WorkflowExecute`, the node's input items
 *   (JSON and binary) put on the execution stack as n8n's own NodeTestHarness does. The node's
 *   settings (`onError`, `continueOnFail`, `retryOnFail`, `maxTries`, …) are honoured by n8n-core
 *   itself, and the same `executionId` can be run again to see what a retried execution does.
 * - `createTriggerHarness()`: the trigger's `webhookMethods` run in n8n-core's `HookContext` and its
 *   `webhook()` in n8n-core's `WebhookContext`, built as n8n's CLI WebhookService builds them; the
 *   workflow's static data is kept between calls as the CLI saves it to its database.
 *
 * The parts n8n's CLI would supply are written here: the node type registry over our node classes,
 * a credentials helper that applies the credential's generic `authenticate` block exactly as the
 * CLI's CredentialsHelper does (n8n-core leaves that to the helper), the lifecycle hooks and a plain
 * `additionalData`. jest's setup files (test/setup/) keep n8n-core's settings file in a temporary
 * folder and stub its SSH client manager, whose timer would keep jest from exiting.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
	ExecutionLifecycleHooks,
	HookContext,
	LoadOptionsContext,
	prepareBinaryData,
	WebhookContext,
	WorkflowExecute,
} from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IDataObject,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeExecutionData,
	INodeListSearchResult,
	INodeParameters,
	INodeProperties,
	INodeType,
	INodeTypes,
	IRequestOptionsSimplified,
	IRun,
	IWebhookData,
	IWebhookResponseData,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	WebhookSetupMethodNames,
	WorkflowExecuteMode,
} from 'n8n-workflow';
import { createRunExecutionData, ICredentialsHelper, isExpression, NodeHelpers, Workflow } from 'n8n-workflow';
import { WhatsAppGateway3CxApi } from '../../credentials/WhatsAppGateway3CxApi.credentials';
import { WhatsAppGatewayApi } from '../../credentials/WhatsAppGatewayApi.credentials';
import { WhatsAppGateway } from '../../nodes/WhatsAppGateway/WhatsAppGateway.node';
import { WhatsAppGateway3Cx } from '../../nodes/WhatsAppGateway3Cx/WhatsAppGateway3Cx.node';
import { WhatsAppGatewayTrigger } from '../../nodes/WhatsAppGatewayTrigger/WhatsAppGatewayTrigger.node';

/** n8n names a community node `<package name>.<node name>`. */
const PACKAGE = 'n8n-nodes-whatsapp-gateway';

export const NODE_TYPES = {
	send: `${PACKAGE}.whatsAppGateway`,
	trigger: `${PACKAGE}.whatsAppGatewayTrigger`,
	threecx: `${PACKAGE}.whatsAppGateway3Cx`,
} as const;

const nodeTypeRegistry: Record<string, INodeType> = {
	[NODE_TYPES.send]: new WhatsAppGateway(),
	[NODE_TYPES.trigger]: new WhatsAppGatewayTrigger(),
	[NODE_TYPES.threecx]: new WhatsAppGateway3Cx(),
};

const credentialTypeRegistry: Record<string, ICredentialType> = Object.fromEntries(
	[new WhatsAppGatewayApi(), new WhatsAppGateway3CxApi()].map((type) => [type.name, type]),
);

function nodeTypeNamed(name: string): INodeType {
	const nodeType = nodeTypeRegistry[name];
	if (!nodeType) throw new Error(`Unknown node type "${name}"`);
	return nodeType;
}

/** Our two nodes are plain (not versioned) node types, so every version is the same class. */
export const nodeTypes: INodeTypes = {
	getByName: nodeTypeNamed,
	getByNameAndVersion: nodeTypeNamed,
	getKnownTypes: () => ({}),
};

/** Decrypted credential data by credential type, e.g. `{ whatsAppGatewayApi: { baseUrl, apiKey } }`. */
export type CredentialData = Record<string, ICredentialDataDecryptedObject>;

/**
 * What n8n's CLI CredentialsHelper does for a credential without OAuth or expirable tokens: stored
 * data plus the type's defaults, and `authenticate` applied to every request n8n-core sends with
 * `httpRequestWithAuthentication` — a function is called, a generic block's `=` expressions are
 * resolved over `$credentials` and written into the request options.
 */
export class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly stored: CredentialData) {
		super();
	}

	private credentialType(name: string): ICredentialType {
		const type = credentialTypeRegistry[name];
		if (!type) throw new Error(`Unknown credential type "${name}"`);
		return type;
	}

	getParentTypes(name: string): string[] {
		return this.credentialType(name).extends ?? [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow: Workflow,
		node: INode,
	): Promise<IHttpRequestOptions> {
		const { authenticate } = this.credentialType(typeName);
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions as IHttpRequestOptions);
		}
		if (typeof authenticate === 'object') {
			requestOptions.headers ??= {};
			if (authenticate.type === 'generic') {
				const resolve = (value: string): string => {
					if (!isExpression(value)) return value;
					const resolved = workflow.expression.getSimpleParameterValue(
						node,
						value,
						'internal',
						{ $credentials: credentials },
						undefined,
						'',
					);
					return resolved ? String(resolved) : '';
				};
				const options = requestOptions as unknown as Record<string, Record<string, string> | undefined>;
				for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
					for (const [key, value] of Object.entries(outerValue as Record<string, string>)) {
						const target = (options[outerKey] ??= {});
						target[resolve(key)] = resolve(value);
					}
				}
			}
		}
		return requestOptions as IHttpRequestOptions;
	}

	/** Only credentials with an expirable hidden property pre-authenticate; ours has none. */
	async preAuthentication(): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('The test credentials are not stored encrypted');
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.stored[type];
		if (!data) throw new Error(`Credential "${nodeCredentials.name}" of type "${type}" does not exist`);
		// The CLI fills in the type's defaults the same way.
		return NodeHelpers.getNodeParameters(
			this.getCredentialsProperties(type),
			{ ...data } as INodeParameters,
			true,
			false,
			null,
			null,
		) as ICredentialDataDecryptedObject;
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.credentialType(type).properties;
	}
}

const unavailable = (what: string) => () => {
	throw new Error(`${what} is not available in the tests`);
};

let executionCount = 1000;

/** A new id per execution, as n8n's database hands them out. */
export function nextExecutionId(): string {
	executionCount += 1;
	return String(executionCount);
}

export interface AdditionalDataOptions {
	credentials: CredentialData;
	executionId?: string;
	mode?: WorkflowExecuteMode;
	/** Where n8n is reachable for webhooks, as n8n's WEBHOOK_URL plus "/webhook". */
	webhookBaseUrl?: string;
	workflow?: Workflow;
	httpRequest?: IWorkflowExecuteAdditionalData['httpRequest'];
	httpResponse?: IWorkflowExecuteAdditionalData['httpResponse'];
}

/** A plain object (no deep mock: unset fields must stay undefined, as they are in n8n). */
export function createAdditionalData(options: AdditionalDataOptions): IWorkflowExecuteAdditionalData {
	const executionId = options.executionId ?? nextExecutionId();
	const workflowData = {
		id: options.workflow?.id ?? 'wf-1',
		name: options.workflow?.name ?? 'Test workflow',
		active: false,
		nodes: Object.values(options.workflow?.nodes ?? {}),
		connections: options.workflow?.connectionsBySourceNode ?? {},
	} as IWorkflowBase;
	const instanceBaseUrl = 'http://localhost:5678';
	const additionalData: Partial<IWorkflowExecuteAdditionalData> = {
		hooks: new ExecutionLifecycleHooks(options.mode ?? 'manual', executionId, workflowData),
		credentialsHelper: new TestCredentialsHelper(options.credentials),
		executionId,
		currentNodeExecutionIndex: 0,
		variables: {},
		instanceBaseUrl,
		restApiUrl: `${instanceBaseUrl}/rest`,
		webhookBaseUrl: options.webhookBaseUrl ?? `${instanceBaseUrl}/webhook`,
		webhookTestBaseUrl: `${instanceBaseUrl}/webhook-test`,
		webhookWaitingBaseUrl: `${instanceBaseUrl}/webhook-waiting`,
		formWaitingBaseUrl: `${instanceBaseUrl}/form-waiting`,
		httpRequest: options.httpRequest,
		httpResponse: options.httpResponse,
		executeWorkflow: unavailable('Execute Workflow'),
		getRunExecutionData: unavailable('getRunExecutionData'),
		startRunnerTask: unavailable('The task runner'),
		logAiEvent: () => undefined,
	};
	return additionalData as IWorkflowExecuteAdditionalData;
}

/** A node as a workflow stores it; `settings` are the node's Settings tab (onError, retryOnFail, …). */
export function createNode(type: string, parameters: INodeParameters, settings: Partial<INode> = {}): INode {
	const description = nodeTypeNamed(type).description;
	return {
		id: '9b0c1f1e-0d52-4a43-9a53-6f5b5f1d2c11',
		name: description.defaults.name ?? description.displayName,
		type,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		credentials: Object.fromEntries(
			(description.credentials ?? []).map(({ name }) => [name, { id: '1', name: 'WhatsApp Gateway account' }]),
		),
		...settings,
	};
}

function createWorkflow(nodes: INode[], staticData?: IDataObject): Workflow {
	return new Workflow({
		id: 'wf-1',
		name: 'Test workflow',
		// n8n loads a workflow from JSON: the Workflow fills in parameter defaults on its own copies.
		nodes: structuredClone(nodes),
		connections: {},
		active: false,
		nodeTypes,
		staticData,
		settings: { executionOrder: 'v1' },
	});
}

/** The error of a failed run as n8n stores it: a plain copy of the NodeApiError/NodeOperationError. */
export interface RunError {
	name: string;
	message: string;
	description?: string | null;
	httpCode?: string | null;
	context: IDataObject;
	errorResponse?: IDataObject;
}

export interface NodeRunResult {
	run: IRun;
	status: IRun['status'];
	/** The node's first output of its (last) run; empty when it failed. */
	output: INodeExecutionData[];
	error: RunError | undefined;
}

export interface ExecuteNodeOptions {
	node: INode;
	credentials: CredentialData;
	/** The node's input, as the previous node would hand it over. */
	items?: INodeExecutionData[];
	/** The same id for two runs is the same execution run again; by default every run is a new one. */
	executionId?: string;
	/** How many times the node already ran in this execution (a loop's later iterations). */
	runIndex?: number;
}

/** Runs one node in a workflow of its own through n8n-core's WorkflowExecute. */
export async function executeNode(options: ExecuteNodeOptions): Promise<NodeRunResult> {
	const workflow = createWorkflow([options.node]);
	const node = workflow.getNode(options.node.name) as INode;
	const additionalData = createAdditionalData({
		credentials: options.credentials,
		executionId: options.executionId,
		workflow,
	});
	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				{ node, data: { main: [options.items ?? [{ json: {} }]] }, source: null, runIndex: options.runIndex },
			],
		},
	});
	const run = await new WorkflowExecute(additionalData, 'manual', runExecutionData).processRunExecutionData(workflow);
	const taskData = run.data.resultData.runData[node.name]?.at(-1);
	return {
		run,
		status: run.status,
		output: taskData?.data?.main[0] ?? [],
		error: run.data.resultData.error as unknown as RunError | undefined,
	};
}

/**
 * A credential's Test button, as n8n's CLI CredentialsTester runs it: a declarative node whose only
 * parameter routes the credential's `test.request`, executed by n8n-core (RoutingNode) with the
 * credential's authentication; an HTTP error is then matched against the credential's `rules`.
 */
export async function testCredential(
	typeName: string,
	credentials: CredentialData,
): Promise<{ status: 'OK' | 'Error'; message: string; output: INodeExecutionData[] }> {
	const credentialType = credentialTypeRegistry[typeName];
	if (!credentialType?.test) throw new Error(`The credential "${typeName}" has no test request`);
	const test = credentialType.test;
	const type = `${PACKAGE}.credentialTest.${typeName}`;
	nodeTypeRegistry[type] ??= {
		description: {
			displayName: 'Credential test',
			name: `credentialTest${typeName}`,
			group: ['output'],
			version: 1,
			description: 'Runs a credential test request',
			defaults: { name: 'Credential test' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: typeName, required: true }],
			properties: [
				{ displayName: 'Temp', name: 'temp', type: 'string', default: '', routing: { request: test.request } },
			],
		},
	} as INodeType;
	const result = await executeNode({ node: createNode(type, {}), credentials });
	if (result.status === 'success')
		return { status: 'OK', message: 'Connection tested successfully', output: result.output };
	const rule = test.rules?.find(
		(candidate) =>
			candidate.type === 'responseCode' && String(candidate.properties.value) === String(result.error?.httpCode),
	);
	return { status: 'Error', message: rule?.properties.message ?? result.error?.message ?? 'unknown error', output: [] };
}

/** A resource locator's "From List" search, as the editor calls it (n8n's LoadOptionsContext). */
export async function listSearch(options: {
	node: INode;
	credentials: CredentialData;
	parameter: string;
	filter?: string;
}): Promise<INodeListSearchResult> {
	const workflow = createWorkflow([options.node]);
	const node = workflow.getNode(options.node.name) as INode;
	const additionalData = createAdditionalData({ credentials: options.credentials, mode: 'internal', workflow });
	additionalData.currentNodeParameters = node.parameters;
	const property = nodeTypeNamed(node.type).description.properties.find(
		(candidate) => candidate.name === options.parameter,
	);
	const mode = property?.modes?.find((candidate) => candidate.type === 'list');
	const method = mode?.typeOptions?.searchListMethod;
	const search = method ? nodeTypeNamed(node.type).methods?.listSearch?.[method] : undefined;
	if (!search) throw new Error(`The parameter "${options.parameter}" has no list search`);
	const context = new LoadOptionsContext(workflow, node, additionalData, `parameters.${options.parameter}`);
	return await search.call(context, options.filter);
}

/**
 * An input item with a file in its `data` binary field, prepared by n8n-core's own binary helper:
 * the MIME type comes from the file name or, without one, from the content (like a download
 * without a file name).
 */
export async function binaryItem(
	content: Buffer,
	fileName?: string,
	json: IDataObject = {},
): Promise<INodeExecutionData> {
	const data = await prepareBinaryData(content, nextExecutionId(), 'wf-1', fileName);
	return { json, binary: { data } };
}

/** What `webhook()` can see of the HTTP request: the raw bytes as well as the parsed JSON. */
export interface WebhookRequest {
	headers: IncomingHttpHeaders;
	rawBody: Buffer;
	body: IDataObject;
}

/** What the node did with the express response object itself. */
export interface RecordedResponse {
	statusCode: number | undefined;
	body: unknown;
	ended: boolean;
}

function createResponseRecorder() {
	const recorded: RecordedResponse = { statusCode: undefined, body: undefined, ended: false };
	const response = {
		status(code: number) {
			recorded.statusCode = code;
			return response;
		},
		json(body: unknown) {
			recorded.body = body;
			return response;
		},
		send(body: unknown) {
			recorded.body = body;
			return response;
		},
		end() {
			recorded.ended = true;
			return response;
		},
	};
	return { recorded, response: response as unknown as IWorkflowExecuteAdditionalData['httpResponse'] };
}

export interface TriggerHarnessOptions {
	parameters: INodeParameters;
	credentials: CredentialData;
	webhookBaseUrl: string;
}

/**
 * One trigger node in an active workflow. Each call builds the workflow afresh from the current
 * `parameters` and the saved static data, and saves the static data again afterwards, as n8n does
 * between activation, deliveries and deactivation.
 */
export function createTriggerHarness(options: TriggerHarnessOptions) {
	const template = createNode(NODE_TYPES.trigger, options.parameters, {
		webhookId: '5f0b6d2e-3c1a-4b7e-9d8f-2a6c4e1b7d90',
	});
	let saved: IDataObject = {};
	const harness = {
		/** Change to simulate the user editing the node. */
		parameters: options.parameters,
		/** The node's static data as last saved. */
		get staticData(): IDataObject {
			return (saved[`node:${template.name}`] as IDataObject | undefined) ?? {};
		},
		set staticData(data: IDataObject) {
			saved = { ...saved, [`node:${template.name}`]: data };
		},
		webhookUrl: () => NodeHelpers.getNodeWebhookUrl(options.webhookBaseUrl, 'wf-1', template, 'webhook'),
		runWebhookMethod: async (method: WebhookSetupMethodNames): Promise<boolean> =>
			await withWorkflow(async (workflow, node, webhookData) => {
				const webhookMethod = nodeTypeNamed(node.type).webhookMethods?.default?.[method];
				if (!webhookMethod) throw new Error(`The trigger has no webhook method "${method}"`);
				const context = new HookContext(
					workflow,
					node,
					webhookData.workflowExecuteAdditionalData,
					'trigger',
					'activate',
					webhookData,
				);
				return await webhookMethod.call(context);
			}),
		receive: async (request: WebhookRequest): Promise<{ result: IWebhookResponseData; response: RecordedResponse }> => {
			const { recorded, response } = createResponseRecorder();
			const result = await withWorkflow(
				async (workflow, node, webhookData) => {
					const context = new WebhookContext(
						workflow,
						node,
						webhookData.workflowExecuteAdditionalData,
						'webhook',
						webhookData,
						[],
						null,
					);
					const webhook = nodeTypeNamed(node.type).webhook;
					if (!webhook) throw new Error('The trigger has no webhook()');
					return await webhook.call(context);
				},
				{
					httpRequest: {
						method: 'POST',
						query: {},
						params: {},
						...request,
					} as unknown as IWorkflowExecuteAdditionalData['httpRequest'],
					httpResponse: response,
				},
			);
			return { result, response: recorded };
		},
	};

	async function withWorkflow<T>(
		call: (workflow: Workflow, node: INode, webhookData: IWebhookData) => Promise<T>,
		http: Pick<AdditionalDataOptions, 'httpRequest' | 'httpResponse'> = {},
	): Promise<T> {
		const workflow = createWorkflow([{ ...template, parameters: harness.parameters }], structuredClone(saved));
		workflow.active = true;
		const node = workflow.getNode(template.name) as INode;
		const additionalData = createAdditionalData({
			credentials: options.credentials,
			mode: 'trigger',
			webhookBaseUrl: options.webhookBaseUrl,
			workflow,
			...http,
		});
		const [webhookDescription] = nodeTypeNamed(node.type).description.webhooks ?? [];
		const webhookData: IWebhookData = {
			httpMethod: webhookDescription.httpMethod as IWebhookData['httpMethod'],
			node: node.name,
			path: NodeHelpers.getNodeWebhookPath(workflow.id, node, String(webhookDescription.path)),
			webhookDescription,
			workflowId: workflow.id,
			workflowExecuteAdditionalData: additionalData,
		};
		try {
			return await call(workflow, node, webhookData);
		} finally {
			// As n8n's WorkflowStaticDataService.saveStaticData: only data the node changed (through the
			// observable static data object) is saved.
			if (workflow.staticData.__dataChanged === true) {
				const staticData = JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
				delete staticData.__dataChanged;
				saved = staticData;
			}
		}
	}

	return harness;
}

export type TriggerHarness = ReturnType<typeof createTriggerHarness>;
