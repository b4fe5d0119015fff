/**
 * Meta's WhatsApp Cloud API over the Graph API: `POST /{phone_number_id}/messages` with the instance's
 * Bearer token, media uploaded to `/{phone_number_id}/media`, errors as `{error:{message,type,code,
 * error_data:{details}}}`, webhooks verified with `hub.verify_token` (GET) and `X-Hub-Signature-256` (POST).
 * docs/connect-whatsapp.md tells the operator how to set it up; test/fakes/graph-api.ts is the fake.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock';
import { InputError } from '../input-error';
import { parseRetryAfter } from '../common/retry-after';
import { CLOUD_DEFAULT_PACE_PER_MINUTE } from './defaults';
import { ProviderHttp, type ProviderAnswer } from './http-client';
import {
	baseUrlSetting,
	generatedSecret,
	headerValue,
	paceSetting,
	parseProviderSettings,
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
	type SendFailureReason,
	type TemplatePayload,
} from './types';

const settingsSchema = z.strictObject({
	phoneNumberId: z
		.string()
		.trim()
		.regex(/^\d{5,30}$/, 'must be the numeric phone number ID from WhatsApp Manager'),
	accessToken: z.string().trim().min(1, 'must not be empty'),
	appSecret: z.string().trim().min(1, 'must not be empty'),
	verifyToken: z.string().min(16, 'must be at least 16 characters'),
	/** Overrides GATEWAY_CLOUD_GRAPH_URL for this instance. */
	graphUrl: baseUrlSetting.optional(),
	pacePerMinute: paceSetting.optional(),
});
export type CloudSettings = z.infer<typeof settingsSchema>;

const graphError = z.looseObject({
	error: z.looseObject({
		message: z.string().optional(),
		code: z.number().optional(),
		error_subcode: z.number().optional(),
		error_data: z.looseObject({ details: z.string().optional() }).optional(),
	}),
});

const sentAnswer = z.looseObject({ messages: z.array(z.looseObject({ id: z.string().min(1) })).min(1) });
const uploadAnswer = z.looseObject({ id: z.string().min(1) });

/** Graph error codes a caller may be told about (developers.facebook.com … whatsapp/support/error-codes). */
const REASON_OF_CODE: Record<number, SendFailureReason> = {
	0: 'provider_unauthorized',
	190: 'provider_unauthorized',
	10: 'provider_unauthorized',
	200: 'provider_unauthorized',
	131047: 'outside_customer_service_window',
	131026: 'recipient_not_on_whatsapp',
	131030: 'provider_rejected',
	131051: 'provider_rejected',
	131052: 'media_rejected',
	131053: 'media_rejected',
	4: 'provider_rate_limited',
	80007: 'provider_rate_limited',
	130429: 'provider_rate_limited',
	131048: 'provider_rate_limited',
	131056: 'provider_rate_limited',
};

/** Cloud API error codes that mean "slow down" and how long to wait when no Retry-After comes. */
const SLOW_DOWN_MS: Record<number, number> = {
	4: 60_000,
	80007: 60_000,
	130429: 10_000,
	131048: 60_000,
	131056: 6_000,
};

export interface CloudOptions {
	timeoutMs: number;
	/** Reads `Retry-After` dates against it. */
	clock: Clock;
	/** Graph API base including the version, e.g. https://graph.facebook.com/v23.0 (GATEWAY_CLOUD_GRAPH_URL). */
	graphUrl: string;
}

export class CloudProvider implements Provider {
	readonly name = 'cloud' as const;
	/** The number and the Graph API that connect checks. */
	readonly connectionSettings = ['phoneNumberId', 'graphUrl'] as const;
	private readonly http: ProviderHttp;

	constructor(private readonly options: CloudOptions) {
		this.http = new ProviderHttp('cloud', { timeoutMs: options.timeoutMs });
	}

	close(): void {
		this.http.close();
	}

	parseSettings(given: ProviderSettings, current: ProviderSettings): ProviderSettings {
		const merged = { ...current, ...given };
		merged.verifyToken ??= generatedSecret();
		return parseProviderSettings('cloud', settingsSchema, merged);
	}

	pacePerMinute(settings: ProviderSettings): number {
		return typeof settings.pacePerMinute === 'number' ? settings.pacePerMinute : CLOUD_DEFAULT_PACE_PER_MINUTE;
	}

	async sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult> {
		return this.sendMessage(this.settings(instance), to, { type: 'text', text: { body: text, preview_url: false } });
	}

	async sendMedia(
		instance: ProviderInstance,
		to: string,
		media: MediaPayload,
		caption: string,
	): Promise<ProviderSendResult> {
		const settings = this.settings(instance);
		const object: Record<string, unknown> = media.url
			? { link: media.url }
			: { id: await this.upload(settings, media) };
		// Audio takes no caption; a document keeps its file name.
		if (caption && media.type !== 'audio') object.caption = caption;
		if (media.type === 'document' && media.fileName) object.filename = media.fileName;
		return this.sendMessage(settings, to, { type: media.type, [media.type]: object });
	}

	async sendTemplate(instance: ProviderInstance, to: string, template: TemplatePayload): Promise<ProviderSendResult> {
		const components =
			template.bodyParameters.length > 0
				? [{ type: 'body', parameters: template.bodyParameters.map((text) => ({ type: 'text', text })) }]
				: [];
		return this.sendMessage(this.settings(instance), to, {
			type: 'template',
			template: { name: template.name, language: { code: template.language }, components },
		});
	}

	/** The Cloud API has no QR code: a number is connected once its token can read it. */
	async connect(instance: ProviderInstance): Promise<ConnectResult> {
		return { state: await this.connectionState(instance) };
	}

	async connectionState(instance: ProviderInstance): Promise<ConnectionState> {
		const settings = this.settings(instance);
		const answer = await this.http.request({
			method: 'get',
			url: `${this.graph(settings)}/${settings.phoneNumberId}`,
			params: { fields: 'display_phone_number,verified_name' },
			headers: { Authorization: `Bearer ${settings.accessToken}` },
		});
		if (answer.status < 300) return 'connected';
		throw this.failure(answer, 'read the phone number');
	}

	/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, compared in constant time. */
	verifyInbound(request: InboundRequest, instance: ProviderInstance): boolean {
		const secret = instance.settings.appSecret;
		if (typeof secret !== 'string' || secret === '') return false;
		const expected = `sha256=${createHmac('sha256', secret).update(request.rawBody, 'utf8').digest('hex')}`;
		return sameSecret(headerValue(request.headers['x-hub-signature-256']), expected);
	}

	/** The webhook subscription handshake: the challenge to echo, or undefined to refuse. */
	verifySubscription(query: Record<string, unknown>, instance: ProviderInstance): string | undefined {
		const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
		const expected = typeof instance.settings.verifyToken === 'string' ? instance.settings.verifyToken : undefined;
		if (text('hub.mode') !== 'subscribe' || !sameSecret(text('hub.verify_token'), expected)) return undefined;
		return text('hub.challenge');
	}

	parseInbound(body: unknown, instance: ProviderInstance): InboundEvent[] {
		const phoneNumberId =
			typeof instance.settings.phoneNumberId === 'string' ? instance.settings.phoneNumberId : undefined;
		return parseCloudWebhook(body, phoneNumberId);
	}

	/** Validated once per settings object (the instances area hands out the same one until it changes). */
	private readonly validated = new WeakMap<object, unknown>();

	private settings(instance: ProviderInstance): CloudSettings {
		const known = this.validated.get(instance.settings);
		if (known) return known as ReturnType<typeof settingsSchema.parse>;
		const parsed = settingsSchema.safeParse(instance.settings);
		if (parsed.success) this.validated.set(instance.settings, parsed.data);
		if (!parsed.success) {
			throw new ProviderError(
				'cloud: the instance settings are incomplete (instances update)',
				'rejected',
				undefined,
				'provider_unauthorized',
			);
		}
		return parsed.data;
	}

	private graph(settings: CloudSettings): string {
		return settings.graphUrl ?? this.options.graphUrl;
	}

	private async sendMessage(
		settings: CloudSettings,
		to: string,
		message: Record<string, unknown>,
	): Promise<ProviderSendResult> {
		const answer = await this.http.request({
			method: 'post',
			url: `${this.graph(settings)}/${settings.phoneNumberId}/messages`,
			data: { messaging_product: 'whatsapp', recipient_type: 'individual', to: to.replace(/\D/g, ''), ...message },
			headers: { Authorization: `Bearer ${settings.accessToken}` },
		});
		if (answer.status >= 300) throw this.failure(answer, 'send');
		const sent = sentAnswer.safeParse(answer.body);
		if (!sent.success)
			throw new ProviderError(
				`cloud send: ${answer.status} without messages[0].id`,
				'unknown',
				answer.status,
				'provider_rejected',
			);
		return { messageId: sent.data.messages[0].id };
	}

	/** Base64 media is uploaded first; the message then names the returned media id. Nothing is sent if this fails. */
	private async upload(settings: CloudSettings, media: MediaPayload): Promise<string> {
		const form = new FormData();
		form.append('messaging_product', 'whatsapp');
		form.append('type', media.mimeType);
		const bytes = Buffer.from(media.base64 ?? '', 'base64');
		form.append(
			'file',
			new Blob([bytes], { type: media.mimeType }),
			media.fileName ?? `upload.${media.mimeType.split('/')[1] ?? 'bin'}`,
		);
		const answer = await this.http.request({
			method: 'post',
			url: `${this.graph(settings)}/${settings.phoneNumberId}/media`,
			data: form,
			headers: { Authorization: `Bearer ${settings.accessToken}` },
		});
		const uploaded = uploadAnswer.safeParse(answer.body);
		if (answer.status >= 300 || !uploaded.success) {
			// The message itself was never sent: whatever happened to the upload, this is a definite refusal.
			const failure = this.failure(answer, 'upload media');
			throw new ProviderError(
				failure.message,
				'rejected',
				answer.status,
				failure.reason ?? 'media_rejected',
				failure.retryAfterMs,
			);
		}
		return uploaded.data.id;
	}

	private failure(answer: ProviderAnswer, doing: string): ProviderError {
		const parsed = graphError.safeParse(answer.body);
		const code = parsed.success ? parsed.data.error.code : undefined;
		const detail = parsed.success ? (parsed.data.error.error_data?.details ?? parsed.data.error.message ?? '') : '';
		const text = `cloud ${doing}: ${answer.status} code ${code ?? '-'} ${detail}`.slice(0, 600);
		const template = code !== undefined && code >= 132000 && code < 133000;
		const reason: SendFailureReason =
			(code !== undefined ? REASON_OF_CODE[code] : undefined) ??
			(template
				? 'template_rejected'
				: answer.status === 401
					? 'provider_unauthorized'
					: answer.status === 429
						? 'provider_rate_limited'
						: answer.status >= 500
							? 'provider_unavailable'
							: 'provider_rejected');
		if (reason === 'provider_rate_limited') {
			const wait =
				parseRetryAfter(answer.headers['retry-after'], this.options.clock.now()) ??
				(code !== undefined ? SLOW_DOWN_MS[code] : undefined) ??
				60_000;
			return new ProviderError(text, 'rejected', answer.status, reason, wait);
		}
		// A 5xx from Graph may come after the message was accepted: unknown.
		return new ProviderError(text, answer.status >= 500 ? 'unknown' : 'rejected', answer.status, reason);
	}
}

// ---- inbound ---------------------------------------------------------------------------------------------

const inboundMessage = z.looseObject({
	from: z.string(),
	id: z.string().min(1),
	timestamp: z.string().optional(),
	type: z.string(),
	text: z.looseObject({ body: z.string() }).optional(),
});

const inboundStatus = z.looseObject({
	id: z.string().min(1),
	status: z.string(),
	timestamp: z.string().optional(),
	recipient_id: z.string().optional(),
});

const change = z.looseObject({
	field: z.string(),
	value: z.looseObject({
		metadata: z.looseObject({ phone_number_id: z.string() }).optional(),
		messages: z.array(z.unknown()).optional(),
		statuses: z.array(z.unknown()).optional(),
	}),
});

const notification = z.looseObject({
	object: z.literal('whatsapp_business_account'),
	entry: z.array(z.looseObject({ changes: z.array(z.unknown()) })),
});

const CLOUD_STATUSES = new Set(['sent', 'delivered', 'read', 'failed']);
const MESSAGE_TYPES: Record<string, string> = { contacts: 'contact', button: 'button', interactive: 'interactive' };

function seconds(value: string | undefined): number | undefined {
	const number = Number(value);
	return value !== undefined && Number.isFinite(number) && number > 0 ? number * 1000 : undefined;
}

/** The text of an inbound message: its body, a media caption, or a button or list reply's title. */
function textOf(message: Record<string, unknown>, type: string): string {
	const content = message[type];
	if (typeof content !== 'object' || content === null) return '';
	const fields = content as Record<string, unknown>;
	if (typeof fields.body === 'string') return fields.body;
	if (typeof fields.caption === 'string') return fields.caption;
	if (typeof fields.text === 'string') return fields.text;
	for (const reply of [fields.button_reply, fields.list_reply]) {
		if (typeof reply === 'object' && reply !== null && typeof (reply as { title?: unknown }).title === 'string') {
			return (reply as { title: string }).title;
		}
	}
	return '';
}

/**
 * A Cloud API `messages` webhook → normalized events, for the instance whose phone number id it names
 * (changes for another number of the same app are left out).
 */
export function parseCloudWebhook(body: unknown, phoneNumberId: string | undefined): InboundEvent[] {
	const parsed = notification.safeParse(body);
	if (!parsed.success)
		throw new InputError('not a WhatsApp Cloud API webhook (object whatsapp_business_account expected)');
	const events: InboundEvent[] = [];
	for (const entry of parsed.data.entry) {
		for (const raw of entry.changes) {
			const item = change.safeParse(raw);
			if (!item.success || item.data.field !== 'messages') continue;
			const { value } = item.data;
			if (phoneNumberId && value.metadata?.phone_number_id !== phoneNumberId) continue;
			for (const rawMessage of value.messages ?? []) {
				const message = inboundMessage.safeParse(rawMessage);
				if (!message.success) continue;
				const { type } = message.data;
				events.push({
					kind: 'message',
					providerMessageId: message.data.id,
					from: `+${message.data.from.replace(/\D/g, '')}`,
					text: textOf(message.data, type),
					messageType: MESSAGE_TYPES[type] ?? type,
					receivedAt: seconds(message.data.timestamp),
				});
			}
			for (const rawStatus of value.statuses ?? []) {
				const status = inboundStatus.safeParse(rawStatus);
				if (!status.success || !CLOUD_STATUSES.has(status.data.status)) continue;
				events.push({
					kind: 'status',
					providerMessageId: status.data.id,
					status: status.data.status,
					providerStatus: status.data.status,
					at: seconds(status.data.timestamp),
				});
			}
		}
	}
	return events;
}
