import type Router from '@koa/router';
import type { Context } from 'koa';
import type { AppDeps } from '../http/app';

/** Bearer-key routes about the caller's own account: `/api/me` (the credential test) and `/api/instances`. */
export function registerAccountRoutes(router: Router, deps: AppDeps): void {
  router.get('/api/me', (ctx: Context) => {
    const { account, key } = deps.accounts.authenticate(ctx.get('authorization'));
    const usage = deps.sends.usage(account);
    ctx.body = {
      success: true,
      account: {
        id: account.id,
        name: account.name,
        time_zone: account.timeZone,
        default_country: account.defaultCountry,
      },
      plan: { name: account.plan.name, label: account.plan.label, active: account.planActive },
      modules: { api_access: account.modules.apiAccess, threecx: account.modules.threecx },
      limits: {
        daily: account.limits.daily,
        monthly: account.limits.monthly,
        custom: account.limits.custom,
        instance_rate_per_minute: account.velocity.instancePerMinute,
        recipient_rate_per_minute: account.velocity.recipientPerMinute,
      },
      usage: { day: usage.day, today: usage.today, month: usage.month, this_month: usage.thisMonth },
      api_key: { id: key.id, name: key.name, prefix: key.prefix },
    };
  });

  router.get('/api/instances', (ctx: Context) => {
    const { account } = deps.accounts.authenticate(ctx.get('authorization'));
    ctx.body = {
      success: true,
      instances: deps.instances.list(account.id).map((instance) => ({
        id: instance.id,
        name: instance.name,
        display_name: instance.displayName,
        provider: instance.provider,
        connection_state: instance.connectionState,
        paused: instance.paused,
        paused_reason: instance.pausedReason,
      })),
    };
  });
}
