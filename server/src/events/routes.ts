import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { callerOf } from '../accounts/auth';
import { ApiError } from '../http/errors';
import { readJsonObject } from '../http/json-body';
import { parseWith } from '../http/validate';
import { webhookJson } from './presenters';
import { MAX_SECRET_OVERLAP_SECONDS, WebhookLimitError, type WebhookService } from './webhooks';

/** The shape of a subscription request; what the values mean (URL, event types, instance) the service checks. */
const createWebhookSchema = z.strictObject({
	destination_url: z.string(),
	events: z.array(z.string()),
	instance_id: z.string().nullable().optional(),
});

/** A rotation's options; without a body the old secret overlaps for the default day. */
const rotateSecretSchema = z.strictObject({
	overlap_seconds: z.number().int().min(0).max(MAX_SECRET_OVERLAP_SECONDS).optional(),
});

/** Customer webhook subscriptions (Bearer key, own account only): the Trigger node's activation lifecycle. */
export function webhookRoutes(deps: { requireApiKey: Middleware; webhooks: WebhookService }): Router {
	const router = new Router();
	const auth = deps.requireApiKey;
	const ownWebhook = (ctx: Context) => {
		const found = deps.webhooks.find(String(ctx.params.id), callerOf(ctx).account.id);
		// A managed subscription (a 3CX integration's forwarding) is changed through its owner only.
		if (!found || found.managedBy !== null) throw new ApiError('not_found', { webhook_id: ctx.params.id });
		return found;
	};

	router.get('/api/webhooks', auth, (ctx) => {
		const own = deps.webhooks.list(callerOf(ctx).account.id).filter((webhook) => webhook.managedBy === null);
		ctx.body = { success: true, webhooks: own.map(webhookJson) };
	});

	router.post('/api/webhooks', auth, async (ctx) => {
		const body = parseWith(createWebhookSchema, await readJsonObject(ctx));
		const created = deps.webhooks.create({
			accountId: callerOf(ctx).account.id,
			destinationUrl: body.destination_url,
			events: body.events,
			instanceId: body.instance_id,
		});
		const { webhook, secret } = await created.catch((error: unknown) => {
			if (error instanceof WebhookLimitError)
				throw new ApiError('webhook_limit_reached', { limit: error.limit, used: error.used });
			throw error;
		});
		ctx.status = 201;
		ctx.body = { success: true, webhook: webhookJson(webhook), signing_secret: secret };
	});

	router.get('/api/webhooks/:id', auth, (ctx) => {
		ctx.body = { success: true, webhook: webhookJson(ownWebhook(ctx)) };
	});

	router.post('/api/webhooks/:id/rotate-secret', auth, async (ctx) => {
		const webhook = ownWebhook(ctx);
		// A body is optional; when there is one it must be a JSON object like any other here.
		const sent = ctx.request.length > 0 || ctx.get('Transfer-Encoding') !== '';
		const body = sent ? parseWith(rotateSecretSchema, await readJsonObject(ctx)) : {};
		const rotated = deps.webhooks.rotateSecret(webhook.id, body.overlap_seconds);
		ctx.body = { success: true, webhook: webhookJson(rotated.webhook), signing_secret: rotated.secret };
	});

	router.delete('/api/webhooks/:id', auth, (ctx) => {
		const webhook = ownWebhook(ctx);
		deps.webhooks.delete(webhook.id);
		ctx.body = { success: true, deleted: true, id: webhook.id };
	});
	return router;
}
