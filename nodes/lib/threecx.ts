/**
 * How the n8n side talks to the gateway's 3CX endpoint: the secret header, and the HMAC signature over
 * the exact bytes sent when the integration has an HMAC secret. Used by the 3CX credential's
 * `authenticate`, so the credential test and every node request are signed the same way. Only
 * `n8n-workflow` types and `node:crypto` (through the signature module) here: this ships in the package.
 */
import type { IDataObject, IHttpRequestOptions } from 'n8n-workflow';
import { computeSignature, SIGNATURE_HEADERS } from '../../contract/src/signature';

/** Carries the integration's webhook secret (seed 001 ThreeCxSecret scheme). */
export const THREECX_INTEGRATION_HEADER = 'X-WhatsApp-Gateway-3CX-Secret';

export { THREECX_EVENT_TYPES, type ThreeCxEventType } from '../../contract/src/threecx-events';

export const threeCxWebhookPath = (integrationId: unknown) =>
	`/integrations/3cx/webhook/${encodeURIComponent(String(integrationId).trim())}`;

/**
 * Adds the secret header and, with an HMAC secret, serializes the body once and signs those bytes:
 * `sha256=HMAC-SHA256(hmacSecret, timestamp + "." + body)`.
 */
export function signThreeCxRequest(
	secrets: { webhookSecret: string; hmacSecret: string },
	requestOptions: IHttpRequestOptions,
	nowSeconds: number,
): IHttpRequestOptions {
	const headers: IDataObject = { ...requestOptions.headers, [THREECX_INTEGRATION_HEADER]: secrets.webhookSecret };
	if (secrets.hmacSecret === '') return { ...requestOptions, headers };
	const body = requestOptions.body;
	const raw = typeof body === 'string' ? body : JSON.stringify(body ?? {});
	const timestamp = String(nowSeconds);
	return {
		...requestOptions,
		body: raw,
		headers: {
			...headers,
			'Content-Type': 'application/json',
			[SIGNATURE_HEADERS.timestamp]: timestamp,
			[SIGNATURE_HEADERS.signature]: computeSignature(secrets.hmacSecret, timestamp, raw),
		},
	};
}
