import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../http/app';
import { ApiError } from '../http/errors';
import { readJsonObject } from '../http/json-body';
import { InputError } from '../input-error';
import { SandboxProvider } from '../providers/sandbox';
import { WebhookInputError, WebhookLimitError, type Webhook } from './webhooks';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export const webhookJson = (webhook: Webhook) => ({
  id: webhook.id,
  destination_url: webhook.destinationUrl,
  events: webhook.events,
  instance_id: webhook.instanceId,
  enabled: webhook.enabled,
  disabled_reason: webhook.disabledReason,
  created_at: iso(webhook.createdAt),
  updated_at: iso(webhook.updatedAt),
  health: {
    last_success_at: isoOrNull(webhook.health.lastSuccessAt),
    last_failure_at: isoOrNull(webhook.health.lastFailureAt),
    last_failure_reason: webhook.health.lastFailureReason,
    consecutive_failures: webhook.health.consecutiveFailures,
    pending_deliveries: webhook.health.pendingDeliveries,
  },
});

/** Customer webhook subscriptions (Bearer key, own account only) and the sandbox's inbound simulation (operator). */
export function registerEventRoutes(router: Router, deps: AppDeps): void {
  const account = (ctx: Context) => deps.accounts.authenticate(ctx.get('authorization')).account;
  const ownWebhook = (ctx: Context) => {
    const found = deps.webhooks.find(String(ctx.params.id), account(ctx).id);
    if (!found) throw new ApiError('not_found', { webhook_id: ctx.params.id });
    return found;
  };

  router.get('/api/webhooks', (ctx: Context) => {
    ctx.body = { success: true, webhooks: deps.webhooks.list(account(ctx).id).map(webhookJson) };
  });

  router.post('/api/webhooks', async (ctx: Context) => {
    const { id: accountId, webhookLimit } = account(ctx);
    const body = await readJsonObject(ctx);
    const allowed = new Set(['destination_url', 'events', 'instance_id']);
    const unknown = Object.keys(body).filter((key) => !allowed.has(key));
    if (unknown.length > 0) {
      throw new ApiError('validation_error', { fields: Object.fromEntries(unknown.map((key) => [key, 'is not a known field'])) });
    }
    try {
      const { webhook, secret } = await deps.webhooks.create({
        accountId,
        destinationUrl: body.destination_url,
        events: body.events,
        instanceId: body.instance_id,
        limit: webhookLimit.limit,
      });
      ctx.status = 201;
      ctx.body = { success: true, webhook: webhookJson(webhook), signing_secret: secret };
    } catch (error) {
      if (error instanceof WebhookInputError) throw new ApiError('validation_error', { fields: error.fields });
      if (error instanceof WebhookLimitError) throw new ApiError('webhook_limit_reached', { limit: error.limit, used: error.used });
      throw error;
    }
  });

  router.get('/api/webhooks/:id', (ctx: Context) => {
    ctx.body = { success: true, webhook: webhookJson(ownWebhook(ctx)) };
  });

  router.delete('/api/webhooks/:id', (ctx: Context) => {
    const webhook = ownWebhook(ctx);
    deps.webhooks.delete(webhook.id);
    ctx.body = { success: true, deleted: true, id: webhook.id };
  });

  /** Simulates a WhatsApp user writing to a sandbox instance (operator token). */
  router.post('/sandbox/inbound', async (ctx: Context) => {
    const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!deps.verifyOperator(token)) throw new ApiError('invalid_admin_token');
    const body = await readJsonObject(ctx);
    const fields: Record<string, string> = {};
    for (const field of ['instance', 'from', 'text']) if (typeof body[field] !== 'string' || body[field] === '') fields[field] = 'is required';
    if (body.id !== undefined && typeof body.id !== 'string') fields.id = 'must be a string';
    if (Object.keys(fields).length > 0) throw new ApiError('validation_error', { fields });
    let instance;
    try {
      instance = deps.instances.resolve(String(body.instance));
    } catch (error) {
      if (error instanceof InputError) throw new ApiError('not_found', { instance: body.instance });
      throw error;
    }
    try {
      if (instance.provider !== 'sandbox') throw new InputError(`instance "${instance.name}" does not use the sandbox provider`);
      const result = deps.inbound.receiveMessage({
        instanceId: instance.id,
        providerMessageId: typeof body.id === 'string' ? body.id : SandboxProvider.inboundMessageId(),
        from: String(body.from),
        text: String(body.text),
      });
      ctx.body = {
        success: true,
        duplicate: result.duplicate,
        inbound_id: result.inboundId ?? null,
        keyword_action: result.keywordAction ?? null,
        event_ids: result.eventIds,
      };
    } catch (error) {
      if (error instanceof InputError) throw new ApiError('validation_error', { fields: { request: error.message } });
      throw error;
    }
  });
}
