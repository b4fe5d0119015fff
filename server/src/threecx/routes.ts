import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requireOperator, type OperatorCheck } from '../accounts/auth';
import type { AccountService } from '../accounts/service';
import type { Clock } from '../clock';
import { bearerToken } from '../http/bearer';
import { readTextBody } from '../http/body';
import { ApiError } from '../http/errors';
import { parseJsonObject, readJsonObject } from '../http/json-body';
import { parseWith } from '../http/validate';
import { InputError } from '../input-error';
import { invalidWebhook, secretAndAddressMatch, SECRET_HEADER, signatureMatches } from './auth';
import { outboundFromGenericSms } from './generic-sms';
import type { Integration, IntegrationInput, IntegrationService } from './integrations';
import { integrationJson, threecxEventJson } from './presenter';
import type { WebhookRateLimit } from './rate-limit';
import type { ThreecxAnswer, ThreecxService } from './service';

/** Seed 002: "256KB payload limit". The body is refused while it is read, never buffered past this. */
export const MAX_3CX_BODY_BYTES = 256 * 1024;

export interface ThreecxRoutesDeps {
	clock: Clock;
	isOperator: OperatorCheck;
	accounts: Pick<AccountService, 'find'>;
	integrations: IntegrationService;
	threecx: ThreecxService;
	rateLimit: WebhookRateLimit;
}

const ID = /^[1-9]\d{0,15}$/;

const templateSchema = z.strictObject({ enabled: z.boolean().optional(), text: z.string().optional() });

/** The operator's settings, snake_case as everywhere in the API; what the values mean the service checks. */
const settingsSchema = z.strictObject({
	instance_id: z.string().optional(),
	name: z.string().optional(),
	hmac_secret: z.string().nullable().optional(),
	ip_allowlist: z.array(z.string()).nullable().optional(),
	enabled: z.boolean().optional(),
	outbound_enabled: z.boolean().optional(),
	call_events_enabled: z.boolean().optional(),
	templates: z.record(z.string(), templateSchema).optional(),
	business_name: z.string().optional(),
	strict_window: z.boolean().optional(),
	window_hours: z.number().int().optional(),
	destination_url: z.string().nullable().optional(),
	destination_format: z.string().optional(),
	line_number: z.string().nullable().optional(),
});
const createSchema = settingsSchema.extend({ account_id: z.number().int().positive(), instance_id: z.string() });

function toInput(body: z.infer<typeof settingsSchema>): IntegrationInput {
	return {
		instance: body.instance_id,
		name: body.name,
		hmacSecret: body.hmac_secret,
		ipAllowlist: body.ip_allowlist,
		enabled: body.enabled,
		outboundEnabled: body.outbound_enabled,
		callEventsEnabled: body.call_events_enabled,
		templates: body.templates,
		businessName: body.business_name,
		strictWindow: body.strict_window,
		windowHours: body.window_hours,
		destinationUrl: body.destination_url,
		destinationFormat: body.destination_format,
		lineNumber: body.line_number,
	};
}

/**
 * The 3CX middleware (seed 001/002): the event webhook, the Generic SMS provider route for agents replying
 * from the 3CX inbox, and the operator API the dashboard and scripts manage integrations with.
 */
export function threecxRoutes(deps: ThreecxRoutesDeps): Router {
	const router = new Router();
	const { integrations, threecx, clock } = deps;

	/**
	 * Authentication, in the order that keeps the answer the same for every pre-authentication failure:
	 * integration, secret and address (before the body is read), then the HMAC over the body. Each of
	 * them fails with the same generic 401.
	 */
	const authenticate = async (
		ctx: Context,
		secret: string | undefined,
	): Promise<{ integration: Integration; rawBody: string }> => {
		const id = String(ctx.params.integrationId);
		const integration = ID.test(id) ? integrations.find(Number(id)) : undefined;
		if (!secretAndAddressMatch(integration, secret, ctx.ip) || !integration) throw invalidWebhook();
		const rawBody = await readTextBody(ctx, MAX_3CX_BODY_BYTES);
		const signature = {
			timestamp: ctx.get('x-whatsapp-gateway-timestamp') || undefined,
			signature: ctx.get('x-whatsapp-gateway-signature') || undefined,
		};
		if (!signatureMatches(integration, signature, rawBody, clock.now())) throw invalidWebhook();
		return { integration, rawBody };
	};

	const process = async (ctx: Context, integration: Integration, body: Record<string, unknown>) => {
		const account = deps.accounts.find(integration.accountId);
		if (!account) throw invalidWebhook();
		answer(ctx, await threecx.handle(integration, account, body));
	};

	const answer = (ctx: Context, result: ThreecxAnswer) => {
		ctx.status = result.status;
		if (result.replayed) ctx.set('Idempotent-Replayed', 'true');
		ctx.body = result.body;
	};

	/** The body as a JSON object; a JSON value that is not one is not an event. */
	const eventBody = (rawBody: string): Record<string, unknown> => {
		try {
			return parseJsonObject(rawBody);
		} catch (error) {
			if (error instanceof ApiError && error.code === 'validation_error')
				throw new ApiError('invalid_3cx_event', error.details);
			throw error;
		}
	};

	router.post('/integrations/3cx/webhook/:integrationId', async (ctx) => {
		const { integration, rawBody } = await authenticate(ctx, ctx.get(SECRET_HEADER) || undefined);
		deps.rateLimit.take(integration.id, clock.now());
		await process(ctx, integration, eventBody(rawBody));
	});

	router.post('/integrations/3cx/sms/:integrationId', async (ctx) => {
		const { integration, rawBody } = await authenticate(ctx, bearerToken(ctx.get('authorization')));
		deps.rateLimit.take(integration.id, clock.now());
		await process(ctx, integration, outboundFromGenericSms(eventBody(rawBody)));
	});

	// ---- operator API ----
	const operator = requireOperator(deps.isOperator);
	const integrationParam = (ctx: Context): number => {
		const id = String(ctx.params.id);
		const found = ID.test(id) ? integrations.find(Number(id)) : undefined;
		if (!found) throw new ApiError('not_found', { integration_id: id });
		return found.id;
	};

	router.get('/operator/3cx/integrations', operator, (ctx) => {
		const account =
			typeof ctx.query.account_id === 'string' && ID.test(ctx.query.account_id)
				? Number(ctx.query.account_id)
				: undefined;
		ctx.body = { success: true, integrations: integrations.list(account).map(integrationJson) };
	});

	router.post('/operator/3cx/integrations', operator, async (ctx) => {
		const body = parseWith(createSchema, await readJsonObject(ctx));
		if (!deps.accounts.find(body.account_id))
			throw new InputError(`account ${body.account_id} does not exist`, { account_id: 'is not an account' });
		const { integration, secret } = await integrations.create(body.account_id, {
			...toInput(body),
			instance: body.instance_id,
		});
		ctx.status = 201;
		ctx.body = { success: true, integration: integrationJson(integration), secret };
	});

	router.get('/operator/3cx/integrations/:id', operator, (ctx) => {
		const id = integrationParam(ctx);
		ctx.body = { success: true, integration: integrationJson(integrations.get(id)) };
	});

	router.patch('/operator/3cx/integrations/:id', operator, async (ctx) => {
		const id = integrationParam(ctx);
		const body = parseWith(settingsSchema, await readJsonObject(ctx));
		ctx.body = { success: true, integration: integrationJson(await integrations.update(id, toInput(body))) };
	});

	router.delete('/operator/3cx/integrations/:id', operator, (ctx) => {
		const id = integrationParam(ctx);
		integrations.delete(id);
		ctx.body = { success: true, deleted: true, id };
	});

	router.post('/operator/3cx/integrations/:id/rotate-secret', operator, (ctx) => {
		const { integration, secret } = integrations.rotateSecret(integrationParam(ctx));
		ctx.body = { success: true, integration: integrationJson(integration), secret };
	});

	router.get('/operator/3cx/integrations/:id/events', operator, (ctx) => {
		const id = integrationParam(ctx);
		ctx.body = { success: true, events: threecx.recentEvents(id).map(threecxEventJson) };
	});
	return router;
}
