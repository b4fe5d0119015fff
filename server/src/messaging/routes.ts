import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../http/app';
import { isJsonRequest, readTextBody } from '../http/body';
import { ApiError } from '../http/errors';

const iso = (ms: number) => new Date(ms).toISOString();

export function registerMessagingRoutes(router: Router, deps: AppDeps): void {
  router.post('/api/send-message', async (ctx: Context) => {
    const answer = await deps.sends.handleHttp({
      isJson: isJsonRequest(ctx),
      authorization: ctx.get('authorization') || undefined,
      idempotencyKey: ctx.get('idempotency-key') || undefined,
      readBody: () => readTextBody(ctx),
    });
    ctx.status = answer.status;
    ctx.set(answer.headers);
    ctx.body = answer.body;
  });

  router.get('/api/messages/:logId', (ctx: Context) => {
    const { account } = deps.accounts.authenticate(ctx.get('authorization'));
    const logId = /^[1-9]\d{0,15}$/.test(ctx.params.logId) ? Number(ctx.params.logId) : undefined;
    const found = logId === undefined ? undefined : deps.sends.findMessage(account.id, logId);
    if (!found) throw new ApiError('not_found', { log_id: ctx.params.logId });
    const { entry, history } = found;
    ctx.body = {
      success: true,
      message: {
        log_id: entry.id,
        status: entry.status,
        error: entry.error_code,
        http_status: entry.http_status,
        instance_id: entry.instance_id,
        phone: entry.phone,
        message_purpose: entry.message_purpose,
        message_type: entry.message_type,
        message_id: entry.provider_message_id,
        risk_score: entry.risk_score,
        source: entry.source,
        created_at: iso(entry.created_at),
        updated_at: iso(entry.updated_at),
        // A provider's own error text stays in the operator's log; callers see the status and code.
        history: history.map((row) => ({
          status: row.status,
          detail: row.status === 'failed' ? null : row.detail,
          at: iso(row.created_at),
        })),
      },
    };
  });
}
