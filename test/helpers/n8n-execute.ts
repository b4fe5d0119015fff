/**
 * Runs a programmatic node's `execute()` (and its `listSearch` methods) the way n8n 1.x would, with
 * real HTTP and without n8n-core, which this repository does not install. What it reproduces, each
 * from n8n's own code:
 *
 * - parameters: defaults filled in by `new Workflow()` (n8n-workflow's `getNodeParameters`), `=`
 *   expressions resolved by n8n-workflow's expression engine, `extractValue` for resource locators;
 * - `httpRequestWithAuthentication`: the credential's `authenticate` applied like the CLI's
 *   CredentialsHelper (generic properties resolved as expressions over `$credentials`), then the
 *   request sent like n8n-core's `httpRequest` (axios semantics: JSON body and Accept header, 2xx or
 *   `ignoreHttpStatusErrors`, `returnFullResponse`, JSON parsed when possible, failures wrapped in
 *   `NodeApiError`);
 * - binary helpers (`assertBinaryData`, `getBinaryDataBuffer`) with n8n-core's messages and inline
 *   base64 data;
 * - `continueOnFail()` from the node's `onError` setting.
 *
 * Every HTTP exchange is recorded, like a proxy would, so tests can look at what went over the wire.
 */
import type {
  IBinaryData,
  ICredentialDataDecryptedObject,
  ICredentialType,
  IDataObject,
  IExecuteFunctions,
  IHttpRequestOptions,
  ILoadOptionsFunctions,
  INode,
  INodeExecutionData,
  INodeListSearchResult,
  INodeParameterResourceLocator,
  INodeParameters,
  INodeType,
  INodeTypes,
  IGetNodeParameterOptions,
  NodeParameterValueType,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError, Workflow } from 'n8n-workflow';

export interface HttpExchange {
  request: { method: string; url: string; headers: Record<string, string>; body: unknown };
  response?: { statusCode: number; headers: Record<string, string>; body: unknown };
}

export interface NodeRunOptions {
  nodeType: INodeType;
  parameters: INodeParameters;
  /** Decrypted credential data by credential type name, e.g. `{ whatsAppGatewayApi: { baseUrl, apiKey } }`. */
  credentials: Record<string, ICredentialDataDecryptedObject>;
  credentialTypes: ICredentialType[];
  items?: INodeExecutionData[];
  /** `continueRegularOutput` is what the editor's "On Error: Continue" stores. */
  onError?: INode['onError'];
  executionId?: string;
  instanceId?: string;
  nodeId?: string;
  runIndex?: number;
}

/** AxiosError's name matters: NodeApiError reads the HTTP status from errors of that class name. */
class AxiosError extends Error {
  readonly isAxiosError = true;

  constructor(
    message: string,
    readonly code?: string,
    readonly response?: { status: number; statusText: string; headers: Record<string, string>; data: unknown },
  ) {
    super(message);
  }
}

function isPlainObject(value: unknown): value is IDataObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function isResourceLocator(value: unknown): value is INodeParameterResourceLocator {
  return isPlainObject(value) && value.__rl === true;
}

function getPath(source: IDataObject, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (isPlainObject(value) ? value[key] : undefined), source);
}

function buildUrl(options: IHttpRequestOptions): string {
  let url = options.url;
  if (options.baseURL && !/^[a-z][a-z\d+.-]*:\/\//i.test(url)) {
    url = `${options.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
  }
  if (options.qs && Object.keys(options.qs).length > 0) {
    const query = new URLSearchParams(
      Object.entries(options.qs).map(([key, value]): [string, string] => [key, String(value)]),
    ).toString();
    url += (url.includes('?') ? '&' : '?') + query;
  }
  return url;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());
}

function statusIsAccepted(options: IHttpRequestOptions, status: number): boolean {
  const ignore = options.ignoreHttpStatusErrors as unknown;
  if (isPlainObject(ignore) && ignore.ignore === true) {
    return !((ignore.except as number[] | undefined) ?? []).includes(status);
  }
  if (ignore) return true;
  return status >= 200 && status < 300;
}

export function createNodeRun(options: NodeRunOptions) {
  const typeName = `test.${options.nodeType.description.name}`;
  const node: INode = {
    id: options.nodeId ?? '9b0c1f1e-0d52-4a43-9a53-6f5b5f1d2c11',
    name: options.nodeType.description.defaults.name ?? options.nodeType.description.displayName,
    type: typeName,
    typeVersion: 1,
    position: [0, 0],
    parameters: options.parameters,
    credentials: Object.fromEntries(
      Object.keys(options.credentials).map((type) => [type, { id: '1', name: `${type} account` }]),
    ),
    onError: options.onError,
  };
  const nodeTypes: INodeTypes = {
    getByName: () => options.nodeType,
    getByNameAndVersion: () => options.nodeType,
    getKnownTypes: () => ({}),
  };
  // Fills in the parameter defaults exactly as n8n does when it loads a workflow.
  const workflow = new Workflow({ id: 'wf-1', nodes: [node], connections: {}, active: false, nodeTypes });
  const runIndex = options.runIndex ?? 0;
  const items: INodeExecutionData[] = options.items ?? [{ json: {} }];
  const exchanges: HttpExchange[] = [];

  const getNodeParameter = (
    name: string,
    itemIndex: number,
    fallbackValue?: unknown,
    parameterOptions?: IGetNodeParameterOptions,
  ): unknown => {
    const raw = getPath(node.parameters, name) ?? fallbackValue;
    if (raw === undefined) throw new Error(`Could not get parameter "${name}"`);
    let value = workflow.expression.getParameterValue(
      raw as NodeParameterValueType,
      null,
      runIndex,
      itemIndex,
      node.name,
      items,
      'manual',
      {},
    );
    if (parameterOptions?.extractValue && isResourceLocator(value)) value = value.value;
    return value;
  };

  const getCredentials = async <T extends object = ICredentialDataDecryptedObject>(type: string): Promise<T> => {
    const data = options.credentials[type];
    if (!data) {
      throw new NodeOperationError(node, `Node "${node.name}" does not have any credentials of type "${type}" set`);
    }
    return { ...data } as T;
  };

  /** What the CLI's CredentialsHelper.authenticate does with a credential type's `authenticate`. */
  const authenticate = async (
    credentials: ICredentialDataDecryptedObject,
    type: string,
    requestOptions: IHttpRequestOptions,
  ): Promise<IHttpRequestOptions> => {
    const credentialType = options.credentialTypes.find((candidate) => candidate.name === type);
    const auth = credentialType?.authenticate;
    if (typeof auth === 'function') return await auth(credentials, requestOptions);
    if (auth?.type !== 'generic') return requestOptions;
    requestOptions.headers ??= {};
    const resolve = (value: unknown) =>
      typeof value === 'string' && value.startsWith('=')
        ? String(
            workflow.expression.getSimpleParameterValue(node, value, 'internal', { $credentials: credentials }, undefined, '') ?? '',
          )
        : value;
    for (const [outerKey, outerValue] of Object.entries(auth.properties)) {
      const target = ((requestOptions as unknown as IDataObject)[outerKey] ??= {}) as IDataObject;
      for (const [key, value] of Object.entries(outerValue as IDataObject)) {
        target[String(resolve(key))] = resolve(value) as string;
      }
    }
    return requestOptions;
  };

  /** n8n-core's `httpRequest`, on fetch instead of axios. */
  const httpRequest = async (requestOptions: IHttpRequestOptions) => {
    const method = requestOptions.method ?? 'GET';
    const headers: Record<string, string> = Object.fromEntries(
      Object.entries(requestOptions.headers ?? {}).map(([key, value]) => [key, String(value)]),
    );
    let body: string | Buffer | undefined;
    const data = requestOptions.body;
    if (typeof data === 'string' || Buffer.isBuffer(data)) {
      body = data;
    } else if (isPlainObject(data) && Object.keys(data).length > 0) {
      body = JSON.stringify(data);
      if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    }
    if (method === 'GET') body = undefined;
    if (requestOptions.json && !hasHeader(headers, 'accept')) headers.Accept = 'application/json';
    if (!hasHeader(headers, 'user-agent')) headers['User-Agent'] = 'n8n';

    const url = buildUrl(requestOptions);
    const exchange: HttpExchange = {
      request: { method, url, headers, body: typeof body === 'string' ? JSON.parse(body) : body },
    };
    exchanges.push(exchange);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body });
    } catch (error) {
      const cause = (error as { cause?: { message?: string; code?: string } }).cause;
      throw new AxiosError(cause?.message ?? (error as Error).message, cause?.code);
    }
    const text = await response.text();
    let parsed: unknown = text;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const responseHeaders = Object.fromEntries(response.headers.entries());
    exchange.response = { statusCode: response.status, headers: responseHeaders, body: parsed };
    if (!statusIsAccepted(requestOptions, response.status)) {
      throw new AxiosError(
        `Request failed with status code ${response.status}`,
        response.status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE',
        { status: response.status, statusText: response.statusText, headers: responseHeaders, data: parsed },
      );
    }
    return requestOptions.returnFullResponse
      ? { body: parsed, headers: responseHeaders, statusCode: response.status, statusMessage: response.statusText }
      : parsed;
  };

  /** n8n-core's `httpRequestWithAuthentication` without OAuth: every failure becomes a NodeApiError. */
  async function httpRequestWithAuthentication(type: string, requestOptions: IHttpRequestOptions) {
    try {
      const credentials = await getCredentials(type);
      return await httpRequest(await authenticate(credentials, type, requestOptions));
    } catch (error) {
      throw new NodeApiError(node, error as JsonObject);
    }
  }

  const binaryOf = (itemIndex: number, parameterData: string | IBinaryData): IBinaryData => {
    if (typeof parameterData !== 'string') return parameterData;
    const binary = items[itemIndex].binary;
    if (binary === undefined) {
      throw new NodeOperationError(
        node,
        `This operation expects the node's input data to contain a binary file '${parameterData}', but none was found [item ${itemIndex}]`,
        { itemIndex, description: 'Make sure that the previous node outputs a binary file' },
      );
    }
    if (binary[parameterData] === undefined) {
      throw new NodeOperationError(node, `The item has no binary field '${parameterData}' [item ${itemIndex}]`, {
        itemIndex,
        description:
          'Check that the parameter where you specified the input binary field name is correct, and that it matches a field in the binary input',
      });
    }
    return binary[parameterData];
  };

  const base = {
    getNode: () => node,
    getCredentials,
    getExecutionId: () => options.executionId ?? '1001',
    getInstanceId: () => options.instanceId ?? 'a3f1c9e2b7d4058e6a1f2c3d4e5f60718293a4b5c6d7e8f9',
    getMode: () => 'manual',
    getWorkflow: () => ({ id: workflow.id, name: 'Test workflow', active: false }),
  };

  const executeFunctions = {
    ...base,
    getInputData: () => items,
    getNodeParameter,
    continueOnFail: () =>
      node.onError === undefined
        ? false
        : ['continueRegularOutput', 'continueErrorOutput'].includes(node.onError),
    getWorkflowDataProxy: () => ({ $thisRunIndex: runIndex, $runIndex: runIndex }),
    getExecutionCancelSignal: () => undefined,
    helpers: {
      httpRequestWithAuthentication,
      assertBinaryData: binaryOf,
      getBinaryDataBuffer: async (itemIndex: number, parameterData: string | IBinaryData) =>
        Buffer.from(binaryOf(itemIndex, parameterData).data, 'base64'),
    },
  } as unknown as IExecuteFunctions;

  const loadOptionsFunctions = {
    ...base,
    getNodeParameter: (name: string, fallbackValue?: unknown, parameterOptions?: IGetNodeParameterOptions) =>
      getNodeParameter(name, 0, fallbackValue, parameterOptions),
    getCurrentNodeParameter: (name: string) => getPath(node.parameters, name),
    getCurrentNodeParameters: () => node.parameters,
    helpers: { httpRequestWithAuthentication },
  } as unknown as ILoadOptionsFunctions;

  return {
    node,
    exchanges,
    execute: async (): Promise<INodeExecutionData[][]> => {
      if (!options.nodeType.execute) throw new Error('The node has no execute()');
      return (await options.nodeType.execute.call(executeFunctions)) as INodeExecutionData[][];
    },
    listSearch: async (method: string, filter?: string): Promise<INodeListSearchResult> => {
      const search = options.nodeType.methods?.listSearch?.[method];
      if (!search) throw new Error(`The node has no listSearch method "${method}"`);
      return await search.call(loadOptionsFunctions, filter);
    },
  };
}
