import type { Context } from 'koa';
import { isJsonRequest, readTextBody } from './body';
import { ApiError } from './errors';

/** Small JSON bodies of the management routes: 415 when not JSON, 400 when not parseable, 422 when not an object. */
export async function readJsonObject(ctx: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
  if (!isJsonRequest(ctx)) throw new ApiError('unsupported_media_type');
  const raw = await readTextBody(ctx, limit);
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
