import type { Context, Middleware } from 'koa';
import getRawBody from 'raw-body';
import { ApiError } from './errors';

/** Largest JSON body the gateway reads: a 16 MB medium in base64 plus the other fields. */
export const MAX_JSON_BODY_BYTES = 23 * 1024 * 1024;

interface RawBodyError {
	type?: string;
	status?: number;
}

/** Reads the request body as text, with a size limit; transport problems become the seed's error codes. */
export async function readTextBody(ctx: Context, limit = MAX_JSON_BODY_BYTES): Promise<string> {
	const charset = ctx.request.charset || 'utf-8';
	try {
		return await getRawBody(ctx.req, { length: ctx.request.length, limit, encoding: charset });
	} catch (error) {
		const { type, status } = error as RawBodyError;
		if (type === 'entity.too.large') throw new ApiError('payload_too_large', { limit_bytes: limit });
		if (type === 'encoding.unsupported' || status === 415) {
			throw new ApiError('unsupported_media_type', { charset });
		}
		throw new ApiError('invalid_json', { reason: type ?? 'unreadable body' });
	}
}

/** application/json or a +json type, whatever the parameters; decided from the header alone, even with no body. */
export function isJsonRequest(ctx: Context): boolean {
	const type = ctx.get('content-type').split(';')[0].trim().toLowerCase();
	return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

/** Step 1 of the send pipeline as a middleware: 415 unsupported_media_type unless the request says JSON. */
export const requireJson: Middleware = async (ctx, next) => {
	if (!isJsonRequest(ctx)) throw new ApiError('unsupported_media_type');
	await next();
};
