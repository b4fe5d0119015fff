import type { Reached } from './attempt';
import type { NewLogEntry } from './repository';
import { contentHash } from './request';

/** A refused attempt's text is kept as a prefix (and its hash): enough to recognise it, never a disk's worth. */
const REFUSED_TEXT_PREFIX = 80;

/** The message log row of an attempt, from as far as it got. */
export function logEntry(
	attempt: Reached,
	status: 'blocked' | 'sending',
	errorCode: string | null,
	httpStatus: number,
): NewLogEntry {
	const { request, asked } = attempt;
	const fullText = request?.text ?? asked.text;
	const text =
		fullText === null || status === 'sending' ? fullText : [...fullText].slice(0, REFUSED_TEXT_PREFIX).join('');
	return {
		account_id: attempt.account.id,
		api_key_id: attempt.apiKeyId,
		source: attempt.source,
		instance_id: attempt.instance?.id ?? null,
		instance_ref: request?.instanceRef ?? asked.instanceRef,
		phone: request?.phone ?? asked.phone,
		message_purpose: request?.purpose ?? attempt.purpose ?? asked.purpose,
		message_type: request ? (request.template ? 'template' : (request.media?.type ?? 'text')) : null,
		message_text: text === null ? null : text.slice(0, 4096),
		// One meaning whatever the stage: the content policy's hash of the (normalized) content.
		content_hash: attempt.contentHash ?? (fullText === null ? null : contentHash({ text: fullText, media: undefined })),
		status,
		error_code: errorCode,
		http_status: httpStatus,
		risk_score: attempt.policy?.riskScore ?? null,
		provider_message_id: null,
		idempotency_key: attempt.idempotencyKey ?? null,
		created_at: attempt.now,
	};
}
