import { DateTime } from 'luxon';
import { sha256 } from '../common/hash';
import { normalizePhone } from '../common/phone';
import { THREECX_EVENT_TYPES, type ThreeCxEventType } from 'whatsapp-gateway-contract';
import { ApiError } from '../http/errors';
import { characterCount } from '../messaging/request';

export { THREECX_EVENT_TYPES } from 'whatsapp-gateway-contract';
export type ThreecxEventType = ThreeCxEventType;

export function isThreecxEventType(value: string): value is ThreecxEventType {
	return (THREECX_EVENT_TYPES as readonly string[]).includes(value);
}

/** A 3CX event with 3CX's habits ironed out: placeholders dropped, phone in E.164, times and durations read. */
export interface ThreecxEvent {
	type: ThreecxEventType;
	/** The phone as given (first of the accepted fields that has one), and its E.164 form when it is a number. */
	phoneGiven: string | undefined;
	phone: string | undefined;
	text: string | undefined;
	purpose: string | undefined;
	conversationId: string | undefined;
	externalMessageId: string | undefined;
	agentExtension: string | undefined;
	queue: string | undefined;
	callTime: { given: string; at: number | undefined } | undefined;
	durationSeconds: number | undefined;
	/** `not_answered`: the customer did not answer the business's call (ReportCall "Notanswered"). */
	outcome: 'not_answered' | undefined;
	/** How the body was shaped: our JSON, or a raw ReportCall body read by the adapter. */
	shape: 'event' | 'report_call';
}

export interface ParseContext {
	/** The account's default country, for national numbers such as 0500000000. */
	defaultCountry: string | null;
	/** The account's time zone: times without an offset are local to it. */
	timeZone: string;
}

/** 3CX leaves a variable it could not fill as its literal name, e.g. "[Agent]". */
const PLACEHOLDER = /^\[[A-Za-z]+\]$/;
const MAX_FIELD_LENGTH = 4096;

/** Where each event looks for the phone (seed 002: "Include to, from, customer_phone, caller, or phone"). */
const PHONE_FIELDS_OUTBOUND = ['to', 'customer_phone', 'phone', 'caller', 'from'] as const;
const PHONE_FIELDS_CALL = ['customer_phone', 'caller', 'phone', 'from', 'to'] as const;

/** The fields an event of this type takes the customer's phone from, first found first (missing_phone names them). */
export const phoneFieldsOf = (type: string): readonly string[] =>
	type === 'outbound_message' ? PHONE_FIELDS_OUTBOUND : PHONE_FIELDS_CALL;

const refuse = (fields: Record<string, string>) => new ApiError('invalid_3cx_event', { fields });

/** A field's text, or undefined when absent, empty or an unfilled 3CX placeholder. Numbers are read as text. */
function text(body: Record<string, unknown>, field: string): string | undefined {
	const value = body[field];
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string') throw refuse({ [field]: 'must be text or a number' });
	const trimmed = value.trim();
	if (trimmed === '' || PLACEHOLDER.test(trimmed)) return undefined;
	if (characterCount(trimmed) > MAX_FIELD_LENGTH)
		throw refuse({ [field]: `must be at most ${MAX_FIELD_LENGTH} characters` });
	return trimmed;
}

/**
 * E.164 from what 3CX produces: "+966 50 000 0000", "00966500000000", "966500000000" and, with the
 * account's default country, "0500000000". Digits that are not a national number of the default
 * country are tried as an international number without its "+".
 */
export function normalizeThreecxPhone(given: string, defaultCountry: string | null): string | undefined {
	const national = normalizePhone(given, defaultCountry);
	if (national) return national;
	const digits = given.replace(/[\s().-]/g, '');
	return /^\d{8,15}$/.test(digits) ? normalizePhone(`+${digits}`, null) : undefined;
}

/** "00:02:05", "02:05" or "125" (seconds); anything else is treated as absent. */
export function parseDuration(given: string | undefined): number | undefined {
	if (given === undefined) return undefined;
	if (/^\d{1,7}$/.test(given)) return Number(given);
	const match = /^(?:(\d{1,4}):)?([0-5]?\d):([0-5]\d)(?:\.\d+)?$/.exec(given);
	if (!match) return undefined;
	return Number(match[1] ?? 0) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

const LOCAL_FORMATS = [
	'dd/MM/yyyy HH:mm:ss',
	'dd/MM/yyyy HH:mm',
	'd/M/yyyy H:mm:ss',
	'd/M/yyyy H:mm',
	'dd.MM.yyyy HH:mm:ss',
	'yyyy-MM-dd HH:mm:ss',
	'yyyy-MM-dd HH:mm',
];

/**
 * A call time as 3CX writes it. ISO 8601 with an offset is exact; ISO without one, and the PBX-culture
 * forms (read day first: "15/09/2026 13:00:00" is 15 September), are in the account's time zone.
 * Anything else keeps its text and has no instant.
 */
export function parseCallTime(given: string, timeZone: string): number | undefined {
	const iso = DateTime.fromISO(given, { zone: timeZone, setZone: true });
	if (iso.isValid) return iso.toMillis();
	for (const format of LOCAL_FORMATS) {
		const local = DateTime.fromFormat(given, format, { zone: timeZone });
		if (local.isValid) return local.toMillis();
	}
	return undefined;
}

/**
 * How `{{call_time}}` renders: the account's local time, e.g. "2026-09-15 13:00". An event without a call
 * time renders the time the gateway received it (`receivedAt`): a missed call is reported as it ends, and
 * "sorry we missed your call at ." would be worse than a time a minute late.
 */
export function formatCallTime(
	callTime: ThreecxEvent['callTime'],
	timeZone: string,
	receivedAt?: number,
): string | undefined {
	const at = callTime ? callTime.at : receivedAt;
	if (callTime && at === undefined) return callTime.given;
	if (at === undefined) return undefined;
	return DateTime.fromMillis(at, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm');
}

/** ReportCall's [CallType]: Missed is a missed call; anything else ended, Notanswered without an answer. */
function fromCallType(callType: string): { type: ThreecxEventType; outcome: 'not_answered' | undefined } | undefined {
	switch (callType.toLowerCase()) {
		case 'missed':
			return { type: 'missed_call', outcome: undefined };
		case 'notanswered':
			return { type: 'call_ended', outcome: 'not_answered' };
		case 'inbound':
		case 'outbound':
			return { type: 'call_ended', outcome: undefined };
		default:
			return undefined;
	}
}

/** A raw ReportCall body (the CRM template's variables under their own names) as our field names. */
function adaptReportCall(body: Record<string, unknown>): Record<string, unknown> {
	return {
		call_type: body.CallType,
		customer_phone: body.Number,
		agent_extension: body.Agent,
		queue: body.QueueExtension,
		call_time: body.CallStartTimeUTC ?? body.CallStartTimeLocal ?? body.DateTime,
		duration: body.Duration,
		external_message_id: body.external_message_id,
	};
}

/** Reads a 3CX event body (already a JSON object). Throws invalid_3cx_event for an unknown type or a wrongly typed field. */
export function parseThreecxEvent(raw: Record<string, unknown>, context: ParseContext): ThreecxEvent {
	const isReportCall = raw.event_type === undefined && raw.CallType !== undefined;
	const body = isReportCall ? adaptReportCall(raw) : raw;
	const callType = text(body, 'call_type');
	let type: ThreecxEventType;
	let outcome: 'not_answered' | undefined;
	const given = text(body, 'event_type');
	if (given !== undefined) {
		const normalized = given.toLowerCase();
		if (!isThreecxEventType(normalized)) {
			throw refuse({ event_type: `must be one of ${THREECX_EVENT_TYPES.join(', ')}` });
		}
		type = normalized;
	} else {
		const mapped = callType === undefined ? undefined : fromCallType(callType);
		if (!mapped) {
			throw refuse({
				event_type:
					callType === undefined
						? 'is required'
						: `CallType "${callType.slice(0, 32)}" is not Missed, Notanswered, Inbound or Outbound`,
			});
		}
		type = mapped.type;
	}
	// A call the customer did not answer is never a missed call, whatever the template chose.
	if (callType?.toLowerCase() === 'notanswered' && (type === 'missed_call' || type === 'call_ended')) {
		type = 'call_ended';
		outcome = 'not_answered';
	}

	let phoneGiven: string | undefined;
	for (const field of phoneFieldsOf(type)) {
		phoneGiven = text(body, field);
		if (phoneGiven !== undefined) break;
	}
	const callTimeText = text(body, 'call_time');
	const callTime =
		callTimeText === undefined
			? undefined
			: { given: callTimeText.slice(0, 64), at: parseCallTime(callTimeText, context.timeZone) };
	const agentExtension = text(body, 'agent_extension');
	const phone = phoneGiven === undefined ? undefined : normalizeThreecxPhone(phoneGiven, context.defaultCountry);
	let externalMessageId = text(body, 'external_message_id')?.slice(0, 255);
	// ReportCall has no call id: the same call reported twice hashes to the same id (alga-psa does the same).
	if (externalMessageId === undefined && callType !== undefined && callTime !== undefined && phone !== undefined) {
		externalMessageId = `3cx-call-${sha256([phone, agentExtension ?? '', callType.toLowerCase(), callTime.given].join('|')).slice(0, 24)}`;
	}
	return {
		type,
		phoneGiven,
		phone,
		text: text(body, 'message_text') ?? text(body, 'message'),
		purpose: text(body, 'message_purpose'),
		conversationId: text(body, 'conversation_id')?.slice(0, 255),
		externalMessageId,
		agentExtension: agentExtension?.slice(0, 64),
		queue: text(body, 'queue')?.slice(0, 64),
		callTime,
		durationSeconds: parseDuration(text(body, 'duration') ?? text(body, 'duration_seconds')),
		outcome,
		shape: isReportCall ? 'report_call' : 'event',
	};
}
