/**
 * The WhatsApp Cloud API's webhooks: `whatsapp_business_account` notifications whose `messages` changes
 * carry inbound messages and status reports, parsed into the gateway's normalized events.
 */
import { z } from 'zod';
import { InputError } from '../input-error';
import { graphErrorText, reasonOfGraphCode } from './cloud-errors';
import type { InboundEvent, StatusFailure } from './types';

const inboundMessage = z.looseObject({
	from: z.string(),
	id: z.string().min(1),
	timestamp: z.string().optional(),
	type: z.string(),
	text: z.looseObject({ body: z.string() }).optional(),
});

/** One of a failed status's `errors[]`: `{code, title, message, error_data:{details}, href}` (older versions: code and title). */
const statusError = z.looseObject({
	code: z.number().optional(),
	title: z.string().optional(),
	message: z.string().optional(),
	error_data: z.looseObject({ details: z.string().optional() }).optional(),
});

const inboundStatus = z.looseObject({
	id: z.string().min(1),
	status: z.string(),
	timestamp: z.string().optional(),
	recipient_id: z.string().optional(),
	errors: z.array(z.unknown()).optional(),
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

/**
 * Why Meta gave up on a message it had accepted (a `failed` status's first error), with the reason a refusal
 * of the same code at send time gives; a failure without a readable error is `provider_rejected`.
 */
function failureOf(errors: unknown[] | undefined): StatusFailure {
	const first = statusError.safeParse(errors?.[0]);
	if (!first.success) return { reason: 'provider_rejected', detail: 'cloud status failed: no error given' };
	const { code, title, message, error_data: data } = first.data;
	const words = [title ?? message, data?.details].filter((part) => part !== undefined && part !== '').join(': ');
	return {
		reason: reasonOfGraphCode(code) ?? 'provider_rejected',
		detail: graphErrorText('status failed:', code, words),
	};
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
					failure: status.data.status === 'failed' ? failureOf(status.data.errors) : undefined,
				});
			}
		}
	}
	return events;
}
