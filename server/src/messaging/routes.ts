import Router from '@koa/router';
import type { Middleware } from 'koa';
import stringify from 'safe-stable-stringify';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from 'whatsapp-gateway-contract';
import { callerOf } from '../accounts/auth';
import type { Clock } from '../clock';
import { sha256 } from '../common/hash';
import { readTextBody, requireJson } from '../http/body';
import { ApiError } from '../http/errors';
import { parseJsonObject } from '../http/json-body';
import { askedInBody } from './api-guards';
import type { Asked, Attempt } from './attempt';
import type { Messaging } from './index';
import { messageJson } from './presenter';

const NOTHING_ASKED: Asked = { instanceRef: null, phone: null, purpose: null, text: null };

/**
 * `POST /api/send-message` (steps 1–3 here at the edge: JSON content type, API key, then the body, read
 * only once the caller is known) and `GET /api/messages/{log_id}`.
 */
export function messagingRoutes(deps: { clock: Clock; requireApiKey: Middleware; messaging: Messaging }): Router {
	const { clock, messaging } = deps;
	const router = new Router();

	router.post('/api/send-message', requireJson, deps.requireApiKey, async (ctx) => {
		const { account, key } = callerOf(ctx);
		const idempotencyKey = ctx.get('idempotency-key') || undefined;
		const keyIsValid = idempotencyKey === undefined || isValidIdempotencyKey(idempotencyKey);
		const attempt: Attempt = {
			now: clock.now(),
			account,
			apiKeyId: key.id,
			source: 'api',
			idempotencyKey: keyIsValid ? idempotencyKey : undefined,
			asked: NOTHING_ASKED,
		};
		let body: Record<string, unknown> | undefined;
		try {
			body = parseJsonObject(await readTextBody(ctx));
			if (!keyIsValid) throw new ApiError('validation_error', { fields: { 'Idempotency-Key': IDEMPOTENCY_KEY_RULE } });
		} catch (error) {
			if (!(error instanceof ApiError)) throw error;
			// Past authentication every attempt is logged, a malformed one too; refuse() then throws the refusal.
			const asked = body ? askedInBody(body) : NOTHING_ASKED;
			return messaging.sends.refuse({ ...attempt, now: clock.now(), asked }, error);
		}
		const mediaCheck = await messaging.checkMediaUrl(body.media);
		const start = { ...attempt, now: clock.now(), body, asked: askedInBody(body), mediaCheck };
		const answer = await messaging.sends.send(start, messaging.apiGuards, () => sha256(stringify(body) ?? ''));
		ctx.status = answer.status;
		if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
		ctx.body = answer.body;
	});

	router.get('/api/messages/:logId', deps.requireApiKey, (ctx) => {
		const logId = /^[1-9]\d{0,15}$/.test(ctx.params.logId) ? Number(ctx.params.logId) : undefined;
		const found = logId === undefined ? undefined : messaging.log.find(callerOf(ctx).account.id, logId);
		if (!found) throw new ApiError('not_found', { log_id: ctx.params.logId });
		ctx.body = { success: true, message: messageJson(found.entry, found.history) };
	});
	return router;
}
