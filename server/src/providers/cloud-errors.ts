/**
 * The Graph API's error answers (`{error:{message,type,code,error_data:{details}}}`) as ProviderErrors: the
 * raw text for the log, a safe reason for the caller, and how long to wait when Graph says to slow down.
 */
import { z } from 'zod';
import type { Clock } from '../clock';
import { parseRetryAfter } from '../common/retry-after';
import type { ProviderAnswer } from './http-client';
import { ProviderError, type SendFailureReason } from './types';

const graphError = z.looseObject({
	error: z.looseObject({
		message: z.string().optional(),
		code: z.number().optional(),
		error_subcode: z.number().optional(),
		error_data: z.looseObject({ details: z.string().optional() }).optional(),
	}),
});

/** Graph error codes a caller may be told about (developers.facebook.com … whatsapp/support/error-codes). */
const REASON_OF_CODE: Record<number, SendFailureReason> = {
	0: 'provider_unauthorized',
	190: 'provider_unauthorized',
	10: 'provider_unauthorized',
	200: 'provider_unauthorized',
	131047: 'outside_customer_service_window',
	131026: 'recipient_not_on_whatsapp',
	131030: 'provider_rejected',
	131051: 'provider_rejected',
	131052: 'media_rejected',
	131053: 'media_rejected',
	4: 'provider_rate_limited',
	80007: 'provider_rate_limited',
	130429: 'provider_rate_limited',
	131048: 'provider_rate_limited',
	131056: 'provider_rate_limited',
};

/** Cloud API error codes that mean "slow down" and how long to wait when no Retry-After comes. */
const SLOW_DOWN_MS: Record<number, number> = {
	4: 60_000,
	80007: 60_000,
	130429: 10_000,
	131048: 60_000,
	131056: 6_000,
};

/**
 * The safe reason for a Cloud API error code, the one table for refusals at send time and for failures
 * Meta reports later in a status webhook; undefined for a code it does not name.
 */
export function reasonOfGraphCode(code: number | undefined): SendFailureReason | undefined {
	if (code === undefined) return undefined;
	// 132xxx: the template (missing, paused, wrong parameters).
	return REASON_OF_CODE[code] ?? (code >= 132000 && code < 133000 ? 'template_rejected' : undefined);
}

/** The log's text of a Cloud API error: what the gateway was doing, the code and Meta's own words. */
export function graphErrorText(doing: string, code: number | undefined, detail: string): string {
	return `cloud ${doing} code ${code ?? '-'} ${detail}`.trim().slice(0, 600);
}

/** A Graph error answer to `doing` as a ProviderError (a Retry-After date is read against `clock`). */
export function graphFailure(answer: ProviderAnswer, doing: string, clock: Clock): ProviderError {
	const parsed = graphError.safeParse(answer.body);
	const code = parsed.success ? parsed.data.error.code : undefined;
	const detail = parsed.success ? (parsed.data.error.error_data?.details ?? parsed.data.error.message ?? '') : '';
	const text = graphErrorText(`${doing}: ${answer.status}`, code, detail);
	const reason: SendFailureReason =
		reasonOfGraphCode(code) ??
		(answer.status === 401
			? 'provider_unauthorized'
			: answer.status === 429
				? 'provider_rate_limited'
				: answer.status >= 500
					? 'provider_unavailable'
					: 'provider_rejected');
	if (reason === 'provider_rate_limited') {
		const wait =
			parseRetryAfter(answer.headers['retry-after'], clock.now()) ??
			(code !== undefined ? SLOW_DOWN_MS[code] : undefined) ??
			60_000;
		return new ProviderError(text, 'rejected', answer.status, reason, wait);
	}
	// A 5xx from Graph may come after the message was accepted: unknown.
	return new ProviderError(text, answer.status >= 500 ? 'unknown' : 'rejected', answer.status, reason);
}
