/**
 * The provider seam (ARCHITECTURE §6): what the gateway asks of a WhatsApp connection (send, connect,
 * connection state) and what it accepts from one (an authenticated inbound webhook, parsed into
 * normalized events). The sandbox, Evolution API and Cloud API adapters implement `Provider`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ConnectionState, InboundEvent } from '../events/normalized';
import type { ProviderSettings } from '../instances/service';

export type { ConnectionState, InboundEvent } from '../events/normalized';

export const PROVIDER_NAMES = ['sandbox', 'evolution', 'cloud'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

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


/** What a provider needs to know about the instance it works for. */
export interface ProviderInstance {
  id: string;
  name: string;
  settings: ProviderSettings;
}

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
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** One interface for every WhatsApp connection (ARCHITECTURE §6). */
export interface Provider {
  readonly name: ProviderName;
  sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult>;
  sendMedia(instance: ProviderInstance, to: string, media: MediaPayload, caption: string): Promise<ProviderSendResult>;
  connect(instance: ProviderInstance): Promise<ConnectResult>;
  connectionState(instance: ProviderInstance): Promise<ConnectionState>;
  /** Whether an inbound webhook really comes from this provider for this instance (token, signature). */
  verifyInbound(request: InboundRequest, instance: ProviderInstance): boolean;
  /** A verified webhook body, parsed into normalized events; a body it cannot read throws an InputError. */
  parseInbound(body: unknown, instance: ProviderInstance): InboundEvent[];
}
