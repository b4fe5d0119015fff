import type { Context } from 'koa';
import { isJsonRequest, readTextBody } from './body';
import { ApiError } from './errors';

/** The body must be JSON (400 invalid_json) and, for every JSON route here, a JSON object (422). */
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
  return value as Record<string, unknown>;
}

/** Small JSON bodies of the management routes: 415 when not JSON, then as `parseJsonObject`. */
export async function readJsonObject(ctx: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
  if (!isJsonRequest(ctx)) throw new ApiError('unsupported_media_type');
  return parseJsonObject(await readTextBody(ctx, limit));
}
