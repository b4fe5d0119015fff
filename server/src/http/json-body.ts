import type { Context } from 'koa';
import { isJsonRequest, readTextBody } from './body';
import { ApiError } from './errors';

/** Deeper than any request of ours needs; deeper values would only invite stack exhaustion later. */
export const MAX_JSON_DEPTH = 32;

function depthExceeds(value: unknown, limit: number): boolean {
	const stack: [unknown, number][] = [[value, 1]];
	while (stack.length > 0) {
		const [current, depth] = stack.pop() as [unknown, number];
		if (typeof current !== 'object' || current === null) continue;
		if (depth > limit) return true;
		for (const child of Object.values(current)) stack.push([child, depth + 1]);
	}
	return false;
}

/**
 * The body must be JSON (400 invalid_json) and, for every JSON route here, a JSON object nested at most
 * MAX_JSON_DEPTH levels (422 validation_error).
 */
export function parseJsonObject(raw: string): Record<string, unknown> {
	let value: unknown;
	try {
		value = JSON.parse(raw);
	} catch {
		throw new ApiError('invalid_json');
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new ApiError('validation_error', { fields: { body: 'must be a JSON object' } });
	}
	if (depthExceeds(value, MAX_JSON_DEPTH)) {
		throw new ApiError('validation_error', {
			fields: { body: `must not be nested more than ${MAX_JSON_DEPTH} levels deep` },
		});
	}
	return value as Record<string, unknown>;
}

/** Small JSON bodies of the management routes: 415 when not JSON, then as `parseJsonObject`. */
export async function readJsonObject(ctx: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
	if (!isJsonRequest(ctx)) throw new ApiError('unsupported_media_type');
	return parseJsonObject(await readTextBody(ctx, limit));
}
