import { ApiError } from '../http/errors';
import type { Attempt, ParsedAttempt } from '../messaging/attempt';
import {
	ALLOWED_PURPOSES,
	characterCount,
	contentHash,
	isAllowedPurpose,
	MAX_TEXT_LENGTH,
	type MessagePurpose,
	type SendRequest,
} from '../messaging/request';
import type { SendPipeline } from '../messaging/send-pipeline';
import { formatCallTime, phoneFieldsOf, type ThreecxEvent } from './event';
import type { Integration } from './integrations';
import { isTemplateEvent, renderTemplate } from './templates';

/** An authenticated 3CX event that may send: the integration it came through and the event as read. */
export interface ThreecxAttempt extends Attempt {
	integration: Integration;
	event: ThreecxEvent;
}

export type ParsedThreecxAttempt = ThreecxAttempt & ParsedAttempt;

/** outbound_message needs outbound replies on; a call event needs call events on (seed 002 troubleshooting). */
export const requireEventEnabled = ({ integration, event }: ThreecxAttempt): void => {
	if (event.type === 'outbound_message' && !integration.outboundEnabled) {
		throw new ApiError('outbound_disabled', { integration_id: integration.id });
	}
	if (isTemplateEvent(event.type) && !integration.callEventsEnabled) {
		throw new ApiError('call_events_disabled', { integration_id: integration.id, event_type: event.type });
	}
};

export const requirePhone = ({ event }: ThreecxAttempt): void => {
	if (event.phoneGiven === undefined) {
		throw new ApiError('missing_phone', { fields: [...phoneFieldsOf(event.type)] });
	}
	if (event.phone === undefined) {
		throw new ApiError('missing_phone', {
			phone: event.phoneGiven.slice(0, 40),
			reason: 'is not a valid phone number (use international format, e.g. +966501234567)',
		});
	}
};

/** Given purposes must be one of the five; a call event's template reply is `support` unless it says otherwise. */
function purposeOf(event: ThreecxEvent): MessagePurpose {
	const given = event.purpose?.toLowerCase();
	if (given === undefined && event.type !== 'outbound_message') return 'support';
	if (given === undefined || !isAllowedPurpose(given)) {
		throw new ApiError('message_purpose_not_allowed', {
			message_purpose: event.purpose?.slice(0, 64) ?? null,
			allowed: ALLOWED_PURPOSES,
		});
	}
	return given;
}

/** The agent's text for outbound_message, the integration's rendered template for a call event. */
function textOf({ event, integration, account, now }: ThreecxAttempt): string {
	if (event.type === 'outbound_message') {
		if (event.text === undefined) throw new ApiError('missing_message_text', { fields: ['message_text', 'message'] });
		if (characterCount(event.text) > MAX_TEXT_LENGTH)
			throw new ApiError('missing_message_text', { reason: `must be at most ${MAX_TEXT_LENGTH} characters` });
		return event.text;
	}
	if (!isTemplateEvent(event.type)) throw new Error(`${event.type} sends no message`);
	return renderTemplate(integration.templates[event.type].text, {
		customer_phone: event.phone,
		agent_extension: event.agentExtension,
		queue: event.queue,
		call_time: formatCallTime(event.callTime, account.timeZone, now),
		business_name: integration.businessName,
	});
}

/** The message this event sends, through the integration's instance. */
export const composeMessage = <T extends ThreecxAttempt>(attempt: T): T & ParsedAttempt => {
	const purpose = purposeOf(attempt.event);
	const text = textOf(attempt);
	const request: SendRequest = {
		instanceRef: attempt.integration.instanceId,
		phone: attempt.event.phone as string,
		text,
		purpose,
		media: undefined,
	};
	return { ...attempt, purpose, request, contentHash: contentHash(request) };
};

/**
 * What the event may do before any limit is looked at: the send pipeline's admission under the 3CX module,
 * then the integration's switches, the phone, the text and the purpose (the pipeline's caller part).
 */
export function threecxEventGuards(pipeline: SendPipeline) {
	return pipeline
		.admission<ThreecxAttempt>('threecx')
		.check(requireEventEnabled)
		.check(requirePhone)
		.then(composeMessage);
}

/**
 * The conversation window (seed 002): in strict mode the WhatsApp user must have written to this
 * instance within the integration's window. `lastInboundAt` is the events area's record of it.
 */
export function requireOpenWindow(lastInboundAt: (instanceId: string, phone: string) => number | undefined) {
	return ({ integration, request, instance, now }: ParsedThreecxAttempt & { instance: { id: string } }): void => {
		if (!integration.strictWindow) return;
		const last = lastInboundAt(instance.id, request.phone);
		const windowMs = integration.windowHours * 3_600_000;
		if (last === undefined || now - last > windowMs) {
			throw new ApiError('conversation_window_closed', {
				phone: request.phone,
				window_hours: integration.windowHours,
				last_inbound_at: last === undefined ? null : new Date(last).toISOString(),
			});
		}
	};
}

/** The send itself: the send pipeline's delivery checks, with the conversation window as 3CX's instance step. */
export function threecxSendGuards(
	pipeline: SendPipeline,
	lastInboundAt: (instanceId: string, phone: string) => number | undefined,
) {
	return pipeline.delivery<ParsedThreecxAttempt>(requireOpenWindow(lastInboundAt));
}
