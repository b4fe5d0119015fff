/**
 * Evolution API v2's webhooks (read at release 2.3.6): `{event, instance, data, …}` envelopes with lower-case
 * dotted event names, parsed into the gateway's normalized events. `@lid` senders are resolved through
 * `remoteJidAlt` / `participantAlt` to phone numbers, so opt-out and the conversation window work on phones.
 */
import { z } from 'zod';
import { InputError } from '../input-error';
import type { Logger } from '../logger';
import { QR_CODE_MAX_BYTES, qrCodeFits } from './qr-image';
import type { ConnectionState, InboundEvent } from './types';

/**
 * What the parser leaves out that the operator should hear about; the adapter logs it with the instance
 * (never a phone: an `@lid` sender's message is named by its message id).
 */
export type EvolutionDrop =
	{ reason: 'qr_code_too_large'; bytes: number } | { reason: 'lid_without_phone'; providerMessageId: string };

/** One warn line per thing left out, with the instance and what identifies it (never a phone). */
export function logEvolutionDrop(logger: Logger | undefined, instanceId: string, drop: EvolutionDrop): void {
	if (drop.reason === 'qr_code_too_large')
		logger?.warn(
			{ instance_id: instanceId, bytes: drop.bytes, limit_bytes: QR_CODE_MAX_BYTES },
			'Evolution reported a QR code too long to draw; it is ignored until a usable one arrives',
		);
	else
		logger?.warn(
			{ instance_id: instanceId, provider_message_id: drop.providerMessageId },
			'dropped an inbound message from an @lid sender: Evolution gave no phone for it (remoteJidAlt, participantAlt, senderPn)',
		);
}

/**
 * The webhook events the gateway subscribes to (Evolution's UPPER_SNAKE names), each one Evolution both
 * accepts and emits: not `GROUP_UPDATE`, which never fires (docs/connect-whatsapp.md, group changes).
 */
export const EVOLUTION_WEBHOOK_EVENTS = [
	'MESSAGES_UPSERT',
	'MESSAGES_UPDATE',
	'SEND_MESSAGE',
	'CONNECTION_UPDATE',
	'QRCODE_UPDATED',
	'CALL',
	'GROUPS_UPSERT',
	'GROUP_PARTICIPANTS_UPDATE',
	'CHATS_UPDATE',
] as const;

/** Evolution's connection states (`open`, `connecting`, `close`, and `refused` when the QR limit is reached) as the gateway's. */
export function connectionStateOf(state: string | undefined): ConnectionState {
	if (state === 'open') return 'connected';
	if (state === 'connecting') return 'connecting';
	return 'disconnected';
}

const envelope = z.looseObject({
	event: z.string(),
	instance: z.string().optional(),
	data: z.unknown(),
});

const messageKey = z.looseObject({
	remoteJid: z.string(),
	fromMe: z.boolean().optional(),
	id: z.string().min(1),
	participant: z.string().nullish(),
	participantAlt: z.string().nullish(),
	remoteJidAlt: z.string().nullish(),
	addressingMode: z.string().nullish(),
	senderPn: z.string().nullish(),
});

const upsertData = z.looseObject({
	key: messageKey,
	pushName: z.string().nullish(),
	message: z.record(z.string(), z.unknown()).nullish(),
	messageType: z.string().optional(),
	messageTimestamp: z.union([z.number(), z.string()]).nullish(),
});

const updateData = z.looseObject({
	keyId: z.string().min(1),
	remoteJid: z.string().nullish(),
	fromMe: z.boolean().optional(),
	status: z.string(),
});

const connectionData = z.looseObject({ state: z.string() });

const qrData = z.looseObject({
	qrcode: z.looseObject({ code: z.string().nullish(), pairingCode: z.string().nullish() }).optional(),
	message: z.string().optional(),
});

const callData = z.looseObject({
	id: z.string().optional(),
	from: z.string().optional(),
	status: z.string(),
	date: z.union([z.string(), z.number()]).optional(),
});

const withId = z.looseObject({ id: z.string() });
const chatData = z.looseObject({ remoteJid: z.string().optional(), id: z.string().optional() });

/** Evolution's `messages.update` statuses (src/utils/renderStatus.ts) in the message log's words. */
const STATUS_OF: Record<string, string> = {
	SERVER_ACK: 'sent',
	DELIVERY_ACK: 'delivered',
	READ: 'read',
	PLAYED: 'read',
	ERROR: 'failed',
};

/** Baileys message content keys → our message_type. */
const MESSAGE_TYPES: Record<string, string> = {
	conversation: 'text',
	extendedTextMessage: 'text',
	imageMessage: 'image',
	videoMessage: 'video',
	ptvMessage: 'video',
	audioMessage: 'audio',
	documentMessage: 'document',
	documentWithCaptionMessage: 'document',
	stickerMessage: 'sticker',
	locationMessage: 'location',
	liveLocationMessage: 'location',
	contactMessage: 'contact',
	contactsArrayMessage: 'contact',
	reactionMessage: 'reaction',
	pollCreationMessage: 'poll',
};

/** A JID's phone in E.164: "966501234567@s.whatsapp.net" or "966501234567:12@s.whatsapp.net" → "+966501234567". */
export function phoneOfJid(jid: string | null | undefined): string | undefined {
	if (!jid) return undefined;
	const match = /^(\d{6,15})(?::\d+)?@(s\.whatsapp\.net|c\.us)$/.exec(jid);
	return match ? `+${match[1]}` : undefined;
}

/** The sender's own address is an `@lid` (then only an alternative address can give the phone). */
function senderIsLid(key: z.infer<typeof messageKey>, group: boolean): boolean {
	return Boolean((group ? key.participant : key.remoteJid)?.endsWith('@lid'));
}

/**
 * The sender's phone. A `@lid` address (WhatsApp's privacy id) has no phone in it: Evolution 2.3.x puts
 * the phone JID in `remoteJidAlt` (or `participantAlt` in groups; older versions `senderPn`), and opt-out and
 * the conversation window must work on phones.
 */
function senderPhone(key: z.infer<typeof messageKey>, group: boolean): string | undefined {
	if (group) return phoneOfJid(key.participant) ?? phoneOfJid(key.participantAlt) ?? phoneOfJid(key.senderPn);
	return phoneOfJid(key.remoteJid) ?? phoneOfJid(key.remoteJidAlt) ?? phoneOfJid(key.senderPn);
}

function textOf(message: Record<string, unknown> | null | undefined): { type: string; text: string } {
	if (!message) return { type: 'unknown', text: '' };
	if (typeof message.conversation === 'string') return { type: 'text', text: message.conversation };
	for (const [key, value] of Object.entries(message)) {
		const type = MESSAGE_TYPES[key];
		if (!type) continue;
		const content = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
		const text =
			typeof content.caption === 'string' ? content.caption : typeof content.text === 'string' ? content.text : '';
		return { type, text };
	}
	const first = Object.keys(message).find((key) => key.endsWith('Message'));
	return { type: first ? first.replace(/Message$/, '') : 'unknown', text: '' };
}

function seconds(value: number | string | null | undefined): number | undefined {
	if (value === null || value === undefined) return undefined;
	const number = typeof value === 'number' ? value : Number(value);
	return Number.isFinite(number) && number > 0 ? number * 1000 : undefined;
}

const items = (data: unknown): unknown[] => (Array.isArray(data) ? data : [data]);

function parseItems<T>(schema: z.ZodType<T>, data: unknown): T[] {
	return items(data).flatMap((item) => {
		const parsed = schema.safeParse(item);
		return parsed.success ? [parsed.data] : [];
	});
}

/**
 * One Evolution webhook delivery → normalized events. Unknown events and items it cannot read give none;
 * `onDrop` hears of an `@lid` sender without a phone and of a QR code too long to draw.
 */
export function parseEvolutionWebhook(body: unknown, onDrop: (drop: EvolutionDrop) => void = () => {}): InboundEvent[] {
	const parsed = envelope.safeParse(body);
	if (!parsed.success) throw new InputError('not an Evolution API webhook (event and data expected)');
	const { event, data } = parsed.data;
	switch (event.toLowerCase().replace(/_/g, '.')) {
		case 'messages.upsert':
			return parseItems(upsertData, data).flatMap((item): InboundEvent[] => {
				// Our own sends come back as send.message; what the phone itself sends is not an inbound message.
				if (item.key.fromMe) return [];
				const group = item.key.remoteJid.endsWith('@g.us');
				const from = senderPhone(item.key, group);
				if (!from) {
					if (senderIsLid(item.key, group)) onDrop({ reason: 'lid_without_phone', providerMessageId: item.key.id });
					return [];
				}
				const { type, text } = textOf(item.message);
				return [
					{
						kind: 'message',
						providerMessageId: item.key.id,
						from,
						text,
						messageType: type,
						groupId: group ? item.key.remoteJid : undefined,
						receivedAt: seconds(item.messageTimestamp),
					},
				];
			});
		case 'send.message':
			// A send of ours, reported by Evolution: `sent`, which never moves a message back.
			return parseItems(upsertData, data).map((item) => ({
				kind: 'status',
				providerMessageId: item.key.id,
				status: 'sent',
				providerStatus: 'SEND_MESSAGE',
			}));
		case 'messages.update':
			return parseItems(updateData, data).flatMap((item): InboundEvent[] => {
				const status = STATUS_OF[item.status];
				if (item.fromMe === false || !status) return [];
				// Evolution says only that Baileys gave up (no code, no text): a refusal without a named reason.
				const failure =
					status === 'failed' ? { reason: 'provider_rejected', detail: `evolution status ${item.status}` } : undefined;
				return [{ kind: 'status', providerMessageId: item.keyId, status, providerStatus: item.status, failure }];
			});
		case 'connection.update':
			return parseItems(connectionData, data).map((item) => ({
				kind: 'connection',
				state: connectionStateOf(item.state),
			}));
		case 'qrcode.updated':
			return parseItems(qrData, data).map((item): InboundEvent => {
				const code = item.qrcode?.code;
				if (code && !qrCodeFits(code)) onDrop({ reason: 'qr_code_too_large', bytes: Buffer.byteLength(code) });
				return code && qrCodeFits(code)
					? { kind: 'qr', qrAvailable: true, code, pairingCode: item.qrcode?.pairingCode ?? undefined }
					: { kind: 'qr', qrAvailable: false };
			});
		case 'call':
			return parseItems(callData, data).flatMap((item): InboundEvent[] => {
				if (item.status !== 'offer' && item.status !== 'timeout') return [];
				return [
					{
						kind: 'call',
						missed: item.status === 'timeout',
						from: phoneOfJid(item.from),
						callStatus: item.status,
						providerEventId: item.id ? `call:${item.id}:${item.status}` : undefined,
					},
				];
			});
		case 'groups.upsert':
		case 'groups.update':
		case 'group.update':
		case 'group-participants.update':
			return parseItems(withId, data).map((item) => ({ kind: 'group', groupId: item.id }));
		case 'chats.update':
			return parseItems(chatData, data).map((item) => {
				const jid = item.remoteJid ?? item.id;
				return { kind: 'conversation', conversationId: phoneOfJid(jid) ?? jid };
			});
		default:
			return [];
	}
}
