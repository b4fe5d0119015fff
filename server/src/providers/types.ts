import type { MediaPayload } from '../messaging/request';

/** What a provider needs to know about the instance it sends through. */
export interface ProviderInstance {
  id: string;
  name: string;
}

export interface ProviderSendResult {
  /** The provider's own message id (WhatsApp's wamid, or the sandbox's generated id). */
  messageId: string;
}

export type ConnectionState = 'connected' | 'connecting' | 'disconnected';

export interface ConnectResult {
  state: ConnectionState;
  /** A QR code to scan (data URL or raw text) or a pairing code, when the provider uses one. */
  qr?: string;
  pairingCode?: string;
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
  readonly name: string;
  sendText(instance: ProviderInstance, to: string, text: string): Promise<ProviderSendResult>;
  sendMedia(instance: ProviderInstance, to: string, media: MediaPayload, caption: string): Promise<ProviderSendResult>;
  connect(instance: ProviderInstance): Promise<ConnectResult>;
  connectionState(instance: ProviderInstance): Promise<ConnectionState>;
}
