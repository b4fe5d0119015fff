import { ApiError } from '../http/errors';
import type { Asked, Attempt } from './attempt';
import {
	ALLOWED_PURPOSES,
	contentHash,
	isAllowedPurpose,
	parseSendRequest,
	type MessagePurpose,
	type SendRequest,
} from './request';
import { requireCheckedMediaUrl, type MediaUrlCheck } from './media-url';
import type { SendPipeline } from './send-pipeline';

/** An attempt through `POST /api/send-message`: the JSON object the caller sent is what gets parsed. */
export interface ApiAttempt extends Attempt {
	body: Record<string, unknown>;
	/** The body's media URL as checked before the guards (checkMediaUrl), when it has one. */
	mediaCheck?: MediaUrlCheck;
}

const bounded = (value: unknown, length: number) => (typeof value === 'string' ? value.slice(0, length) : null);

/** The message log's view of an API body before it is validated. */
export function askedInBody(body: Record<string, unknown>): Asked {
	return {
		instanceRef: bounded(body.instance_id, 128),
		phone: bounded(body.phone, 40),
		purpose: bounded(body.message_purpose, 64),
		text: bounded(body.message, 4096),
	};
}

/** Step 6: `message_purpose` is given and one of the five allowed. */
export const requirePurpose = <T extends ApiAttempt>(attempt: T): T & { purpose: MessagePurpose } => {
	const value = attempt.body.message_purpose;
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
		throw new ApiError('message_purpose_required', { field: 'message_purpose' });
	}
	const purpose = typeof value === 'string' ? value.trim().toLowerCase() : '';
	if (!isAllowedPurpose(purpose)) {
		throw new ApiError('message_purpose_not_allowed', {
			message_purpose:
				typeof value === 'string' ? value.slice(0, 64) : `(${Array.isArray(value) ? 'array' : typeof value})`,
			allowed: ALLOWED_PURPOSES,
		});
	}
	return { ...attempt, purpose };
};

/** Step 7: every other field. */
export const validateFields = <T extends ApiAttempt & { purpose: MessagePurpose }>(
	attempt: T,
): T & { request: SendRequest; contentHash: string } => {
	const parsed = parseSendRequest(attempt.body, attempt.purpose, attempt.account.defaultCountry);
	if ('errors' in parsed) throw new ApiError('validation_error', { fields: parsed.errors });
	const mediaUrl = parsed.request.media?.url;
	if (mediaUrl !== undefined) requireCheckedMediaUrl(mediaUrl, attempt.mediaCheck);
	return { ...attempt, request: parsed.request, contentHash: contentHash(parsed.request) };
};

/**
 * `POST /api/send-message`'s guards (steps 1–3 are the HTTP edge's): the send pipeline's admission under the
 * API Access module, the purpose and the fields (steps 6–7), then the pipeline's delivery checks.
 */
export function apiSendGuards(pipeline: SendPipeline) {
	return pipeline
		.admission<ApiAttempt>('apiAccess')
		.then(requirePurpose)
		.then(validateFields)
		.pipe(pipeline.delivery());
}
