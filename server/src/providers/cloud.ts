/**
 * Meta's WhatsApp Cloud API over the Graph API: `POST /{phone_number_id}/messages` with the instance's
 * Bearer token, media uploaded to `/{phone_number_id}/media`, errors as `{error:{message,type,code,
 * error_data:{details}}}`, webhooks verified with `hub.verify_token` (GET) and `X-Hub-Signature-256` (POST).
 * docs/connect-whatsapp.md tells the operator how to set it up; test/fakes/graph-api.ts is the fake.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock';
import { graphFailure } from './cloud-errors';
import { parseCloudWebhook } from './cloud-webhook';
import { CLOUD_DEFAULT_PACE_PER_MINUTE } from './defaults';
import { ProviderHttp } from './http-client';
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

const sentAnswer = z.looseObject({ messages: z.array(z.looseObject({ id: z.string().min(1) })).min(1) });
const uploadAnswer = z.looseObject({ id: z.string().min(1) });

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
		throw graphFailure(answer, 'read the phone number', this.options.clock);
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
		if (answer.status >= 300) throw graphFailure(answer, 'send', this.options.clock);
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
			const failure = graphFailure(answer, 'upload media', this.options.clock);
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
}
