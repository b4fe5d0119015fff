import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requireOperator, type OperatorCheck } from '../accounts/auth';
import type { AccountService } from '../accounts/service';
import { readTextBody, requireJson } from '../http/body';
import { ApiError } from '../http/errors';
import { parseJsonObject } from '../http/json-body';
import { parseWith } from '../http/validate';
import { operatorInstanceJson } from '../instances/presenter';
import type { Instance, InstanceService } from '../instances/service';
import type { InstanceConnector } from './connector';
import { qrPng } from './qr-image';
import { PROVIDER_NAMES } from './defaults';
import { ProviderError } from './types';

export interface OperatorInstanceDeps {
	isOperator: OperatorCheck;
	accounts: Pick<AccountService, 'get'>;
	instances: InstanceService;
	connector: InstanceConnector;
	/** Where a provider's webhooks go for an instance (shown so the operator can paste it into Meta's dashboard). */
	webhookUrl: (instance: Instance) => string | undefined;
}

const settingsValue = z.union([z.string(), z.number(), z.null()]);

const createSchema = z.strictObject({
	account_id: z.number().int().positive(),
	name: z.string().min(1).max(63),
	display_name: z.string().min(1).max(128).optional(),
	provider: z.enum(PROVIDER_NAMES),
	settings: z.record(z.string(), settingsValue).optional(),
});

const updateSchema = z.strictObject({
	display_name: z.string().min(1).max(128).optional(),
	settings: z.record(z.string(), settingsValue).optional(),
});

/** Secrets the gateway generated at creation, shown in that one answer (the operator pastes them elsewhere). */
const GENERATED_AT_CREATION = ['verifyToken'] as const;

/**
 * The operator's instance API (what the dashboard uses; the CLI does the same on the database): create and
 * update instances with their provider settings (never shown back), connect them, and the QR code as a PNG.
 */
export function operatorInstanceRoutes(deps: OperatorInstanceDeps): Router {
	const router = new Router({ prefix: '/operator/instances' });
	const operator = requireOperator(deps.isOperator);

	const find = (id: string) => {
		const instance = deps.instances.findById(id);
		if (!instance) throw new ApiError('not_found', { instance_id: id });
		return instance;
	};
	const json = (instance: Instance) => ({
		...operatorInstanceJson(instance),
		settings_set: deps.instances.settingNames(instance.id),
		webhook_url: deps.webhookUrl(instance) ?? null,
	});
	const readBody = async (ctx: Context) => parseJsonObject(await readTextBody(ctx, 64 * 1024));

	router.get('/:id', operator, (ctx) => {
		ctx.body = { success: true, instance: json(find(ctx.params.id)) };
	});

	router.post('/', operator, requireJson, async (ctx) => {
		const body = parseWith(createSchema, await readBody(ctx));
		deps.accounts.get(body.account_id);
		const instance = deps.instances.create({
			accountId: body.account_id,
			name: body.name,
			displayName: body.display_name,
			provider: body.provider,
			connectionState: body.provider === 'sandbox' ? 'connected' : 'disconnected',
			providerSettings: body.settings ?? {},
		});
		const stored = deps.instances.providerSettings(instance.id);
		const generated = Object.fromEntries(
			GENERATED_AT_CREATION.filter(
				(name) => typeof stored[name] === 'string' && body.settings?.[name] === undefined,
			).map((name) => [name, stored[name]]),
		);
		ctx.status = 201;
		ctx.body = { success: true, instance: json(instance), generated_secrets: generated };
	});

	router.patch('/:id', operator, requireJson, async (ctx) => {
		const instance = find(ctx.params.id);
		const body = parseWith(updateSchema, await readBody(ctx));
		const updated = await deps.connector.update(instance, {
			displayName: body.display_name,
			providerSettings: body.settings,
		});
		ctx.body = { success: true, instance: json(updated) };
	});

	router.post('/:id/connect', operator, async (ctx) => {
		const instance = find(ctx.params.id);
		try {
			const result = await deps.connector.connect(instance);
			ctx.body = {
				success: true,
				connection_state: result.state,
				qr_available: Boolean(result.qr),
				pairing_code: result.pairingCode ?? null,
				qr_image_url: result.qr ? `/operator/instances/${instance.id}/qr` : null,
			};
		} catch (error) {
			if (error instanceof ProviderError)
				throw new ApiError('provider_request_failed', { reason: error.reason ?? 'provider_rejected' });
			throw error;
		}
	});

	router.get('/:id/qr', operator, async (ctx) => {
		const instance = find(ctx.params.id);
		const qr = deps.instances.qr(instance.id);
		// A stored code that cannot be drawn (one kept before codes were bounded) is no code to show.
		const png = qr && (await qrPng(qr.code));
		if (!png) {
			const why =
				instance.connectionState === 'connected'
					? 'none (the instance is connected)'
					: qr
						? 'none (the stored code cannot be drawn: connect the instance again for a new one)'
						: 'none (connect the instance first)';
			throw new ApiError('not_found', { instance_id: instance.id, qr: why });
		}
		ctx.type = 'image/png';
		ctx.set('Cache-Control', 'no-store');
		ctx.body = png;
	});

	return router;
}
