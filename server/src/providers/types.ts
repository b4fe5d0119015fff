/**
 * The provider seam (docs/contributing.md, "Adding a provider"): what the gateway asks of a WhatsApp
 * connection (send, connect, connection state) and what it accepts from one (an authenticated inbound
 * webhook, parsed into normalized events). The sandbox, Evolution API and Cloud API adapters implement
 * `Provider`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ConnectionState, InboundEvent } from '../events/normalized';
import type { ProviderInstance, ProviderSettings } from '../instances/service';
import type { ProviderName } from './defaults';

export type { ProviderInstance, ProviderSettings } from '../instances/service';

export type { ConnectionState, InboundEvent, StatusFailure } from '../events/normalized';

export const MEDIA_TYPES = ['image', 'document', 'audio', 'video'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export interface MediaPayload {
	type: MediaType;
	mimeType: string;
	fileName: string | undefined;
	/** Exactly one of url and base64 is set. */
	url: string | undefined;
	base64: string | undefined;
	bytes: number | undefined;
}

/** A template message (Cloud API): an approved template's name, its language code and its body parameters in order. */
export interface TemplatePayload {
	name: string;
	language: string;
	bodyParameters: string[];
}

/**
 * Why a send failed, safe to show a caller (`details.reason` of gateway_send_failed); the provider's own
 * text stays in the log.
 */
export const SEND_FAILURE_REASONS = [
	'recipient_not_on_whatsapp',
	'instance_not_connected',
	'provider_unauthorized',
	'provider_rejected',
	'outside_customer_service_window',
	'template_rejected',
	'media_rejected',
	'provider_rate_limited',
	'provider_unavailable',
	'provider_timeout',
] as const;
export type SendFailureReason = (typeof SEND_FAILURE_REASONS)[number];

export interface ProviderSendResult {
	/** The provider's own message id (WhatsApp's wamid, or the sandbox's generated id). */
	messageId: string;
}

export interface ConnectResult {
	state: ConnectionState;
	/** A QR code to scan (data URL or raw text) or a pairing code, when the provider uses one. */
	qr?: string;
	pairingCode?: string;
}

/** An inbound webhook as it reached the gateway: verified over the exact bytes before anything is parsed. */
export interface InboundRequest {
	headers: IncomingHttpHeaders;
	rawBody: string;
	/** The request carried a valid operator token (the sandbox's only credential; real providers use their own). */
	operator: boolean;
}

/**
 * The provider did not send; becomes 502 gateway_send_failed. `rejected`: it certainly did not (the
 * request was refused, or never left), so a retry may send. `unknown`: it may have (a timeout after the
 * request was sent), so the gateway never sends it again under the same Idempotency-Key. Any other
 * error thrown by a provider counts as `unknown`.
 */
export class ProviderError extends Error {
	constructor(
		message: string,
		readonly outcome: 'rejected' | 'unknown' = 'rejected',
		readonly providerStatus?: number,
		/** What a caller may be told. */
		readonly reason?: SendFailureReason,
		/** The provider asked to slow down: the caller gets 429 sending_throttled with this Retry-After. */
		readonly retryAfterMs?: number,
	) {
		super(message);
		this.name = 'ProviderError';
	}
}

/** One interface for every WhatsApp connection. */
export interface Provider {
	readonly name: ProviderName;
	sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult>;
	sendMedia(instance: ProviderInstance, to: string, media: MediaPayload, caption: string): Promise<ProviderSendResult>;
	/** Only providers that can send WhatsApp templates (the Cloud API) have this. */
	sendTemplate?(instance: ProviderInstance, to: string, template: TemplatePayload): Promise<ProviderSendResult>;
	connect(instance: ProviderInstance): Promise<ConnectResult>;
	connectionState(instance: ProviderInstance): Promise<ConnectionState>;
	/** Whether an inbound webhook really comes from this provider for this instance (token, signature). */
	verifyInbound(request: InboundRequest, instance: ProviderInstance): boolean;
	/** A verified webhook body, parsed into normalized events; a body it cannot read throws an InputError. */
	parseInbound(body: unknown, instance: ProviderInstance): InboundEvent[];
	/**
	 * Validates settings given by the operator (create or update, merged over `current`) and returns what
	 * to store; a bad value throws an InputError naming the setting.
	 */
	parseSettings?(given: ProviderSettings, current: ProviderSettings): ProviderSettings;
	/** The provider's safe sends per minute for one instance (the velocity step's provider pace); none: no pace. */
	pacePerMinute?(settings: ProviderSettings): number | undefined;
	/** The settings its connection depends on: changing one needs a new connect. */
	readonly connectionSettings?: readonly string[];
}
