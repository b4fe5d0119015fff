import Router from '@koa/router';
import { requireOperator, type OperatorCheck } from '../accounts/auth';
import { inboundResultJson } from '../events/presenters';
import { readTextBody, requireJson } from '../http/body';
import { ApiError } from '../http/errors';
import { parseJsonObject } from '../http/json-body';
import { parseWith } from '../http/validate';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import type { ProviderInbound } from './inbound';
import { sandboxInboundSchema } from './sandbox';

export interface ProviderRoutesDeps {
  isOperator: OperatorCheck;
  instances: InstanceService;
  providerInbound: ProviderInbound;
}

function findInstance(instances: InstanceService, ref: string) {
  try {
    return instances.resolve(ref);
  } catch (error) {
    if (error instanceof InputError) throw new ApiError('not_found', { instance: ref });
    throw error;
  }
}

/** Provider inbound routes. The sandbox's: an operator simulates a WhatsApp user writing to an instance. */
export function providerRoutes(deps: ProviderRoutesDeps): Router {
  const router = new Router();

  router.post('/sandbox/inbound', requireOperator(deps.isOperator), requireJson, async (ctx) => {
    const rawBody = await readTextBody(ctx, 64 * 1024);
    const body = parseJsonObject(rawBody);
    const ref = parseWith(sandboxInboundSchema, body).instance;
    const result = await deps.providerInbound.simulate(findInstance(deps.instances, ref), body, rawBody, ctx.headers);
    ctx.body = { success: true, ...inboundResultJson(result) };
  });
  return router;
}
