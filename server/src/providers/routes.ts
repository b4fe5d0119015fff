import Router from '@koa/router';
import { requireOperator, type OperatorCheck } from '../accounts/auth';
import { inboundResultJson } from '../events/presenters';
import { readTextBody, requireJson } from '../http/body';
import { ApiError } from '../http/errors';
import { parseJsonObject } from '../http/json-body';
import { parseWith } from '../http/validate';
import { InputError } from '../input-error';
import type { InstanceService } from '../instances/service';
import type { CloudProvider } from './cloud';
import type { ProviderInbound } from './inbound';
import { sandboxInboundSchema } from './sandbox';

export interface ProviderRoutesDeps {
	isOperator: OperatorCheck;
	instances: InstanceService;
	providerInbound: ProviderInbound;
	cloud: Pick<CloudProvider, 'verifySubscription'>;
}

/** What a provider webhook may weigh: Evolution sends media as URLs (base64 off), Meta's notifications are small. */
const PROVIDER_WEBHOOK_LIMIT = 1024 * 1024;

/**
 * The instance a provider webhook names, when it uses that provider. An unknown instance gets the same
 * answer as a bad token: nothing tells a stranger which instance ids exist.
 */
function webhookInstance(instances: InstanceService, id: string, provider: string) {
	const instance = instances.findById(id);
	if (!instance || instance.provider !== provider) throw new ApiError('invalid_provider_webhook', { provider });
	return instance;
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

	// Evolution API v2: its webhook (set at connect) carries the instance's token header; verified, then parsed.
	router.post('/providers/evolution/:instanceId', async (ctx) => {
		const instance = webhookInstance(deps.instances, ctx.params.instanceId, 'evolution');
		const rawBody = await readTextBody(ctx, PROVIDER_WEBHOOK_LIMIT);
		const request = { headers: ctx.headers, rawBody, operator: false };
		const result = await deps.providerInbound.accept(instance, request, () => parseJsonObject(rawBody));
		ctx.body = { success: true, ...inboundResultJson(result) };
	});

	// WhatsApp Cloud API: the subscription handshake, then signed notifications.
	router.get('/providers/cloud/:instanceId', (ctx) => {
		const instance = webhookInstance(deps.instances, ctx.params.instanceId, 'cloud');
		const challenge = deps.cloud.verifySubscription(ctx.query, deps.instances.providerTarget(instance));
		if (challenge === undefined) throw new ApiError('invalid_provider_webhook', { provider: 'cloud' });
		ctx.type = 'text/plain';
		ctx.body = challenge;
	});

	router.post('/providers/cloud/:instanceId', async (ctx) => {
		const instance = webhookInstance(deps.instances, ctx.params.instanceId, 'cloud');
		const rawBody = await readTextBody(ctx, PROVIDER_WEBHOOK_LIMIT);
		const request = { headers: ctx.headers, rawBody, operator: false };
		const result = await deps.providerInbound.accept(instance, request, () => parseJsonObject(rawBody));
		ctx.body = { success: true, ...inboundResultJson(result) };
	});
	return router;
}
