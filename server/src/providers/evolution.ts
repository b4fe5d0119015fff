/**
 * Evolution API v2 (EvolutionAPI/evolution-api, read at release 2.3.6): the `apikey` header on every
 * route, the instance name as the path suffix, errors as `{status, error, response:{message}}`, webhooks
 * as `{event, instance, data, …}` with lower-case dotted event names. docs/connect-whatsapp.md tells the
 * operator how to set it up; test/fakes/evolution-api.ts is the fake the contract tests run against.
 */
import { z } from 'zod';
import type { Clock } from '../clock';
import { EVOLUTION_DEFAULT_PACE_PER_MINUTE } from './defaults';
import {
	connectionStateOf,
	EVOLUTION_WEBHOOK_EVENTS,
	logEvolutionDrop,
	parseEvolutionWebhook,
} from './evolution-webhook';
import type { Logger } from '../logger';
import { qrCodeFits } from './qr-image';
import { parseRetryAfter } from '../common/retry-after';
import { ProviderHttp, type ProviderAnswer } from './http-client';
import {
	baseUrlSetting,
	generatedSecret,
	headerValue,
	paceSetting,
	parseProviderSettings,
	providerWebhookUrl,
	sameSecret,
} from './settings';
import {
	ProviderError,
	type ConnectResult,
	type ConnectionState,
	type InboundEvent,
	type InboundRequest,
	type MediaPayload,
	type Provider,
	type ProviderInstance,
	type ProviderSendResult,
	type ProviderSettings,
} from './types';

/** The header Evolution sends back on every webhook (set through `/webhook/set`): the instance's secret token. */
export const EVOLUTION_TOKEN_HEADER = 'x-gateway-webhook-token';

const settingsSchema = z.strictObject({
	baseUrl: baseUrlSetting,
	apiKey: z.string().trim().min(1, 'must not be empty'),
	/** The instance's name inside Evolution; the gateway instance id when not set. */
	instanceName: z
		.string()
		.trim()
		.regex(/^[\w.-]{1,100}$/, 'must be letters, digits, ".", "-" or "_"')
		.optional(),
	/** Phone number (digits) to get a pairing code for, besides the QR code. */
	pairingNumber: z
		.string()
		.trim()
		.regex(/^\+?\d{7,15}$/, 'must be a phone number in international format')
		.transform((value) => value.replace(/^\+/, ''))
		.optional(),
	webhookToken: z.string().min(24, 'must be at least 24 characters'),
	pacePerMinute: paceSetting.optional(),
});
export type EvolutionSettings = z.infer<typeof settingsSchema>;

const evolutionError = z.looseObject({
	status: z.number().optional(),
	error: z.string().optional(),
	response: z.looseObject({ message: z.unknown() }).optional(),
});

const stateAnswer = z.looseObject({
	instance: z.looseObject({ state: z.string().optional() }),
});

const qrAnswer = z.looseObject({
	pairingCode: z.string().nullish(),
	code: z.string().nullish(),
	base64: z.string().nullish(),
	count: z.number().nullish(),
});

const sentAnswer = z.looseObject({ key: z.looseObject({ id: z.string().min(1) }) });

export interface EvolutionOptions {
	timeoutMs: number;
	/** Reads `Retry-After` dates against it. */
	clock: Clock;
	/** The gateway's public URL: Evolution posts webhooks to `<publicUrl>/providers/evolution/<instance id>`. */
	publicUrl: string;
	/** Hears what is dropped from Evolution's reports (an oversize QR code, an `@lid` sender without a phone). */
	logger?: Logger;
}

export class EvolutionProvider implements Provider {
	readonly name = 'evolution' as const;
	/** Where the instance is, its name there, and the token its webhooks carry (set on the instance at connect). */
	readonly connectionSettings = ['baseUrl', 'instanceName', 'webhookToken'] as const;
	private readonly http: ProviderHttp;

	constructor(private readonly options: EvolutionOptions) {
		this.http = new ProviderHttp('evolution', { timeoutMs: options.timeoutMs });
	}

	close(): void {
		this.http.close();
	}

	parseSettings(given: ProviderSettings, current: ProviderSettings): ProviderSettings {
		const merged = { ...current, ...given };
		merged.webhookToken ??= generatedSecret();
		return parseProviderSettings('evolution', settingsSchema, merged);
	}

	pacePerMinute(settings: ProviderSettings): number {
		return typeof settings.pacePerMinute === 'number' ? settings.pacePerMinute : EVOLUTION_DEFAULT_PACE_PER_MINUTE;
	}

	webhookUrl(instanceId: string): string {
		return providerWebhookUrl(this.options.publicUrl, 'evolution', instanceId);
	}

	async sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult> {
		return this.send(instance, 'sendText', { number: digits(to), text });
	}

	async sendMedia(
		instance: ProviderInstance,
		to: string,
		media: MediaPayload,
		caption: string,
	): Promise<ProviderSendResult> {
		// Raw base64 without a data: prefix (Evolution's isBase64 refuses data URIs), or the https URL.
		const body: Record<string, unknown> = {
			number: digits(to),
			mediatype: media.type,
			mimetype: media.mimeType,
			media: media.url ?? media.base64,
		};
		if (caption) body.caption = caption;
		if (media.fileName) body.fileName = media.fileName;
		return this.send(instance, 'sendMedia', body);
	}

	/**
	 * Creates the Evolution instance when it does not exist, points its webhook at the gateway (with the
	 * instance's secret token as a header Evolution sends back), then asks for the QR code and pairing code.
	 */
	async connect(instance: ProviderInstance): Promise<ConnectResult> {
		const settings = this.settings(instance);
		const name = remoteName(instance, settings);
		const webhook = {
			enabled: true,
			url: this.webhookUrl(instance.id),
			headers: { [EVOLUTION_TOKEN_HEADER]: settings.webhookToken },
			byEvents: false,
			base64: false,
			events: [...EVOLUTION_WEBHOOK_EVENTS],
		};
		const state = await this.call(settings, 'get', `/instance/connectionState/${encodeURIComponent(name)}`);
		if (state.status === 404) {
			const created = await this.call(settings, 'post', '/instance/create', {
				instanceName: name,
				integration: 'WHATSAPP-BAILEYS',
				qrcode: false,
				webhook,
			});
			if (created.status >= 300) throw this.failure(created, 'create the instance');
		} else if (state.status >= 300) {
			throw this.failure(state, 'read the connection state');
		}
		const set = await this.call(settings, 'post', `/webhook/set/${encodeURIComponent(name)}`, { webhook });
		if (set.status >= 300) throw this.failure(set, 'set the webhook');
		const current = stateAnswer.safeParse(state.body);
		if (state.status < 300 && current.success && current.data.instance.state === 'open') return { state: 'connected' };

		const query = settings.pairingNumber ? `?number=${settings.pairingNumber}` : '';
		const answer = await this.call(settings, 'get', `/instance/connect/${encodeURIComponent(name)}${query}`);
		if (answer.status >= 300) throw this.failure(answer, 'connect');
		const opened = stateAnswer.safeParse(answer.body);
		if (opened.success && opened.data.instance.state === 'open') return { state: 'connected' };
		const qr = qrAnswer.safeParse(answer.body);
		if (!qr.success || !qr.data.code) return { state: 'connecting' };
		if (!qrCodeFits(qr.data.code)) {
			const bytes = Buffer.byteLength(qr.data.code);
			logEvolutionDrop(this.options.logger, instance.id, { reason: 'qr_code_too_large', bytes });
			return { state: 'connecting' };
		}
		return { state: 'qr', qr: qr.data.code, pairingCode: qr.data.pairingCode ?? undefined };
	}

	async connectionState(instance: ProviderInstance): Promise<ConnectionState> {
		const settings = this.settings(instance);
		const answer = await this.call(
			settings,
			'get',
			`/instance/connectionState/${encodeURIComponent(remoteName(instance, settings))}`,
		);
		if (answer.status === 404) return 'disconnected';
		if (answer.status >= 300) throw this.failure(answer, 'read the connection state');
		const parsed = stateAnswer.safeParse(answer.body);
		return connectionStateOf(parsed.success ? parsed.data.instance.state : undefined);
	}

	/** Evolution signs nothing; each instance's webhook carries its secret token in a header (set at connect). */
	verifyInbound(request: InboundRequest, instance: ProviderInstance): boolean {
		const expected = typeof instance.settings.webhookToken === 'string' ? instance.settings.webhookToken : undefined;
		return sameSecret(headerValue(request.headers[EVOLUTION_TOKEN_HEADER]), expected);
	}

	parseInbound(body: unknown, instance: ProviderInstance): InboundEvent[] {
		return parseEvolutionWebhook(body, (drop) => logEvolutionDrop(this.options.logger, instance.id, drop));
	}

	/** Validated once per settings object (the instances area hands out the same one until it changes). */
	private readonly validated = new WeakMap<object, unknown>();

	private settings(instance: ProviderInstance): EvolutionSettings {
		const known = this.validated.get(instance.settings);
		if (known) return known as ReturnType<typeof settingsSchema.parse>;
		const parsed = settingsSchema.safeParse(instance.settings);
		if (parsed.success) this.validated.set(instance.settings, parsed.data);
		if (!parsed.success) {
			throw new ProviderError(
				'evolution: the instance settings are incomplete (instances update)',
				'rejected',
				undefined,
				'provider_unauthorized',
			);
		}
		return parsed.data;
	}

	private call(
		settings: EvolutionSettings,
		method: 'get' | 'post',
		path: string,
		data?: unknown,
	): Promise<ProviderAnswer> {
		return this.http.request({ method, url: `${settings.baseUrl}${path}`, data, headers: { apikey: settings.apiKey } });
	}

	private async send(
		instance: ProviderInstance,
		route: 'sendText' | 'sendMedia',
		body: unknown,
	): Promise<ProviderSendResult> {
		const settings = this.settings(instance);
		const answer = await this.call(
			settings,
			'post',
			`/message/${route}/${encodeURIComponent(remoteName(instance, settings))}`,
			body,
		);
		if (answer.status >= 300) throw this.failure(answer, route);
		const sent = sentAnswer.safeParse(answer.body);
		// It answered success without a message id: the message may well have gone out.
		if (!sent.success)
			throw new ProviderError(
				`evolution ${route}: ${answer.status} without key.id`,
				'unknown',
				answer.status,
				'provider_rejected',
			);
		return { messageId: sent.data.key.id };
	}

	/** Evolution's error answer as a ProviderError: the raw text for the log, a safe reason for the caller. */
	private failure(answer: ProviderAnswer, doing: string): ProviderError {
		const parsed = evolutionError.safeParse(answer.body);
		const messages = parsed.success ? parsed.data.response?.message : undefined;
		const list = Array.isArray(messages) ? messages : messages === undefined ? [] : [messages];
		const text = `evolution ${doing}: ${answer.status} ${JSON.stringify(list).slice(0, 500)}`;
		const notOnWhatsApp = list.some(
			(item) => typeof item === 'object' && item !== null && (item as { exists?: unknown }).exists === false,
		);
		const flat = JSON.stringify(list).toLowerCase();
		if (answer.status === 401 || answer.status === 403)
			return new ProviderError(text, 'rejected', answer.status, 'provider_unauthorized');
		if (answer.status === 429) {
			return new ProviderError(
				text,
				'rejected',
				answer.status,
				'provider_rate_limited',
				parseRetryAfter(answer.headers['retry-after'], this.options.clock.now()) ?? 60_000,
			);
		}
		if (notOnWhatsApp) return new ProviderError(text, 'rejected', answer.status, 'recipient_not_on_whatsapp');
		if (answer.status === 404 || flat.includes('connection closed') || flat.includes('does not exist')) {
			return new ProviderError(text, 'rejected', answer.status, 'instance_not_connected');
		}
		if (answer.status === 400) {
			const media = flat.includes('media') || flat.includes('base64') || flat.includes('file name');
			return new ProviderError(text, 'rejected', answer.status, media ? 'media_rejected' : 'provider_rejected');
		}
		// A 5xx may come after the message left: its outcome is unknown.
		return new ProviderError(
			text,
			answer.status >= 500 ? 'unknown' : 'rejected',
			answer.status,
			'provider_unavailable',
		);
	}
}

/**
 * The instance's name in Evolution. Evolution's names are global to the server while ours are per
 * account, so the default is the gateway instance id: two accounts' "support-line" never meet.
 */
function remoteName(instance: ProviderInstance, settings: EvolutionSettings): string {
	return settings.instanceName ?? instance.id;
}

/** "+966501234567" → "966501234567": Evolution's `number` (createJid strips "+" itself; we never send it). */
function digits(phone: string): string {
	return phone.replace(/\D/g, '');
}
