/**
 * The ten event types the gateway's 3CX endpoint accepts (seed 001 ThreeCxWebhookRequest, in its order):
 * defined once, dependency-free, for the gateway and the WhatsApp Gateway 3CX node alike.
 */
export const THREECX_EVENT_TYPES = [
	'test',
	'outbound_message',
	'inbound_reply',
	'missed_call',
	'call_started',
	'call_ended',
	'voicemail',
	'queue_event',
	'queue_callback',
	'after_hours',
] as const;

export type ThreeCxEventType = (typeof THREECX_EVENT_TYPES)[number];
