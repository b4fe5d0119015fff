/**
 * What a provider can report, normalized (docs/architecture.md, "The life of an inbound event"): every
 * provider adapter parses its own webhooks and callbacks into these, and the inbound service turns them
 * into stored state and events.
 */
/** An instance's link to WhatsApp, as providers report it. */
export type ConnectionState = 'connected' | 'connecting' | 'qr' | 'disconnected';

/** Why a provider gave up on a message it had accepted. */
export interface StatusFailure {
	reason: string;
	detail: string;
}

export type InboundEvent =
	| {
			kind: 'message';
			providerMessageId: string;
			from: string;
			text: string;
			messageType?: string;
			groupId?: string;
			receivedAt?: number;
	  }
	/**
	 * `status`: sent, delivered, read or failed (the message log's words); `providerStatus` the provider's own;
	 * `failure`, with `failed`: why, as a send's refusal would say it (`reason`, one of the safe reasons of
	 * gateway_send_failed) and the provider's own words for the operator's log (`detail`).
	 */
	| {
			kind: 'status';
			providerMessageId: string;
			status: string;
			providerStatus?: string;
			at?: number;
			failure?: StatusFailure;
	  }
	| { kind: 'connection'; state: ConnectionState; at?: number }
	/** `code`: the QR code's text (what a scanner reads), kept for the operator's connect screen. */
	| { kind: 'qr'; qrAvailable: boolean; code?: string; pairingCode?: string; at?: number }
	/** `providerEventId`: the provider's id of this report (a retry of it is recorded once). */
	| { kind: 'call'; missed: boolean; from?: string; callStatus?: string; providerEventId?: string; at?: number }
	| { kind: 'group'; groupId: string; at?: number }
	| { kind: 'conversation'; conversationId?: string; at?: number };
