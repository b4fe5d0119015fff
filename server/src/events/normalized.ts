/**
 * What a provider can report, normalized (ARCHITECTURE §5): every provider adapter parses its own webhooks
 * and callbacks into these, and the inbound service turns them into stored state and events.
 */
/** An instance's link to WhatsApp, as providers report it. */
export type ConnectionState = 'connected' | 'connecting' | 'qr' | 'disconnected';

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
  | { kind: 'status'; providerMessageId: string; status: string; at?: number }
  | { kind: 'connection'; state: ConnectionState; at?: number }
  | { kind: 'qr'; qrAvailable: boolean; at?: number }
  | { kind: 'call'; missed: boolean; from?: string; callStatus?: string; at?: number }
  | { kind: 'group'; groupId: string; at?: number }
  | { kind: 'conversation'; conversationId?: string; at?: number };

