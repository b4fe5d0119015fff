/**
 * Every call the nodes make to the WhatsApp Gateway goes through `gatewayApiRequest`: the base URL
 * comes from the `whatsAppGatewayApi` credential (or `whatsAppGateway3CxApi` for the 3CX node) and
 * n8n applies the credential's authentication.
 *
 * HTTP errors are not thrown by the request: the gateway explains every refusal in its JSON body
 * (`{success:false, error, message, details}`), so callers get the status and body back and decide
 * between an output item (Continue On Fail) and `gatewayApiError`.
 */
import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	INode,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const GATEWAY_CREDENTIAL = 'whatsAppGatewayApi';

type GatewayContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

export interface GatewayResponse {
	statusCode: number;
	headers: IDataObject;
	body: unknown;
}

/** The gateway's error shape, also built for answers that did not come from the gateway itself. */
export interface GatewayErrorBody {
	success: false;
	error: string;
	message: string;
	details: IDataObject;
}

export async function gatewayApiRequest(
	this: GatewayContext,
	method: IHttpRequestMethods,
	path: string,
	request: { body?: IDataObject; headers?: IDataObject; itemIndex?: number; credentialType?: string } = {},
): Promise<GatewayResponse> {
	const credentialType = request.credentialType ?? GATEWAY_CREDENTIAL;
	const credentials = await this.getCredentials<{ baseUrl: string }>(credentialType, request.itemIndex);
	const options: IHttpRequestOptions = {
		method,
		url: `${String(credentials.baseUrl).trim().replace(/\/+$/, '')}${path}`,
		headers: request.headers,
		body: request.body,
		json: true,
		ignoreHttpStatusErrors: true,
		returnFullResponse: true,
	};
	const response = (await this.helpers.httpRequestWithAuthentication.call(this, credentialType, options)) as {
		statusCode: number;
		headers?: IDataObject;
		body: unknown;
	};
	return { statusCode: response.statusCode, headers: response.headers ?? {}, body: response.body };
}

export function isSuccess(response: GatewayResponse): boolean {
	return response.statusCode >= 200 && response.statusCode < 300;
}

function isObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The refusal as the gateway stated it. An answer without the gateway's shape (a proxy's HTML page,
 * a wrong Base URL) becomes `unexpected_response` with the status and the start of the body.
 */
export function gatewayErrorBody(response: GatewayResponse): GatewayErrorBody {
	const { body, statusCode } = response;
	if (isObject(body) && typeof body.error === 'string' && typeof body.message === 'string') {
		return {
			success: false,
			error: body.error,
			message: body.message,
			details: isObject(body.details) ? body.details : {},
		};
	}
	const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
	return {
		success: false,
		error: 'unexpected_response',
		message: `The server at the credential's Base URL answered HTTP ${statusCode} without a WhatsApp Gateway error. Check the Base URL.`,
		details: { body: text.slice(0, 500) },
	};
}

/**
 * The error the user sees: "<code>: <gateway message>", the HTTP status, and `details` (plus
 * `Retry-After` on a 429) as the description. The whole body stays on the error as its response.
 */
export function gatewayApiError(node: INode, response: GatewayResponse, itemIndex?: number): NodeApiError {
	const body = gatewayErrorBody(response);
	const retryAfter = response.headers['retry-after'];
	const description = [
		Object.keys(body.details).length > 0 ? `Details: ${JSON.stringify(body.details)}` : '',
		retryAfter !== undefined ? `Retry after ${String(retryAfter)} s.` : '',
	]
		.filter((part) => part !== '')
		.join(' ');
	return new NodeApiError(node, body as unknown as JsonObject, {
		itemIndex,
		httpCode: String(response.statusCode),
		message: `${body.error}: ${body.message}`,
		description: description || `HTTP ${response.statusCode}`,
	});
}
