import { z } from 'zod';
import { sha256 } from '../common/hash';
import { normalizePhone } from '../common/phone';
import { contentKey } from './content-skeleton';
import { fieldErrors, type FieldErrors } from '../http/validate';
import { MEDIA_TYPES, type MediaPayload, type TemplatePayload } from '../providers/types';

export const ALLOWED_PURPOSES = ['transactional', 'operational', 'support', 'internal_team', 'authentication'] as const;
export type MessagePurpose = (typeof ALLOWED_PURPOSES)[number];

/** Decoded size limit of inline (base64) media; documented in docs/api.md, "Sending media". */
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;
/** Text limit of a WhatsApp message; a caption is limited to 1,024. */
export const MAX_TEXT_LENGTH = 4096;
export const MAX_CAPTION_LENGTH = 1024;

/** Length in characters (code points), as WhatsApp counts it: an emoji is one, not two UTF-16 units. */
export function characterCount(text: string): number {
	let count = 0;
	for (let i = 0; i < text.length; i += 1) {
		const unit = text.charCodeAt(i);
		// A high surrogate followed by a low one is one character.
		if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
			const next = text.charCodeAt(i + 1);
			if (next >= 0xdc00 && next <= 0xdfff) i += 1;
		}
		count += 1;
	}
	return count;
}

export interface SendRequest {
	instanceRef: string;
	phone: string;
	text: string;
	purpose: MessagePurpose;
	media: MediaPayload | undefined;
	/** A WhatsApp template (Cloud API instances): `text` is then the message and the parameters, for the policy and the log. */
	template?: TemplatePayload;
}

export function isAllowedPurpose(value: string): value is MessagePurpose {
	return (ALLOWED_PURPOSES as readonly string[]).includes(value);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MIME = /^[a-z0-9][\w.+-]*\/[\w.+-]+$/i;

const bodySchema = z.strictObject({
	instance_id: z.string().trim().min(1, 'is required').max(128),
	phone: z.string().trim().min(1, 'is required').max(40),
	message: z.string(),
	message_purpose: z.string(),
	media_type: z.enum(MEDIA_TYPES).optional(),
	mime_type: z.string().trim().regex(MIME, 'must be a MIME type such as application/pdf').optional(),
	file_name: z.string().trim().min(1).max(255).optional(),
	media: z.string().trim().min(1, 'must not be empty').optional(),
	template: z
		.strictObject({
			name: z
				.string()
				.trim()
				.regex(/^[a-z0-9_]{1,512}$/, 'must be the template name: lowercase letters, digits and _'),
			language: z
				.string()
				.trim()
				.regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'must be a language code such as en_US or ar'),
			body_parameters: z
				.array(z.string().trim().min(1, 'must not be empty').max(MAX_CAPTION_LENGTH))
				.max(20)
				.optional(),
		})
		.optional(),
});

/** A template instead of free text (the Cloud API's way to write outside the 24-hour window). */
function parseTemplate(body: z.infer<typeof bodySchema>, errors: FieldErrors): TemplatePayload | undefined {
	if (!body.template) return undefined;
	if (body.media !== undefined || body.media_type !== undefined) errors.template = 'cannot be combined with media';
	if (characterCount(body.message) > MAX_TEXT_LENGTH) errors.message = `must be at most ${MAX_TEXT_LENGTH} characters`;
	return {
		name: body.template.name,
		language: body.template.language,
		bodyParameters: body.template.body_parameters ?? [],
	};
}

function parseMedia(body: z.infer<typeof bodySchema>, errors: FieldErrors): MediaPayload | undefined {
	const given = body.media_type ?? body.media ?? body.mime_type ?? body.file_name;
	if (given === undefined) return undefined;
	if (body.media_type === undefined) errors.media_type = `is required with media (one of ${MEDIA_TYPES.join(', ')})`;
	if (body.media === undefined) errors.media = 'is required with media_type (an https URL or base64 content)';
	if (body.mime_type === undefined) errors.mime_type = 'is required with media';
	if (body.media_type === 'document' && body.file_name === undefined) errors.file_name = 'is required for documents';
	if (body.media_type && body.mime_type && body.media_type !== 'document') {
		if (!body.mime_type.toLowerCase().startsWith(`${body.media_type}/`)) {
			errors.mime_type = `must be a ${body.media_type}/* type for media_type ${body.media_type}`;
		}
	}
	if (characterCount(body.message) > MAX_CAPTION_LENGTH)
		errors.message = `must be at most ${MAX_CAPTION_LENGTH} characters as a caption`;
	if (body.media === undefined || body.media_type === undefined || body.mime_type === undefined) return undefined;

	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(body.media)) {
		let url: URL | undefined;
		try {
			url = new URL(body.media);
		} catch {
			url = undefined;
		}
		if (!url || url.protocol !== 'https:' || url.hostname === '') {
			errors.media = 'must be an https URL or base64 content';
			return undefined;
		}
		return {
			type: body.media_type,
			mimeType: body.mime_type,
			fileName: body.file_name,
			url: url.href,
			base64: undefined,
			bytes: undefined,
		};
	}
	const base64 = body.media.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '');
	if (base64.length === 0 || base64.length % 4 === 1 || !BASE64.test(base64)) {
		errors.media = 'must be an https URL or base64 content';
		return undefined;
	}
	const bytes = Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
	if (bytes > MAX_MEDIA_BYTES) {
		errors.media = `must be at most ${MAX_MEDIA_BYTES / (1024 * 1024)} MB once decoded`;
		return undefined;
	}
	return { type: body.media_type, mimeType: body.mime_type, fileName: body.file_name, url: undefined, base64, bytes };
}

/**
 * Step 7 of the pipeline: every field but the purpose (already checked). Returns the request, or the
 * failing fields with a reason each.
 */
export function parseSendRequest(
	body: Record<string, unknown>,
	purpose: MessagePurpose,
	defaultCountry: string | null,
): { request: SendRequest } | { errors: FieldErrors } {
	const parsed = bodySchema.safeParse(body);
	if (!parsed.success) return { errors: fieldErrors(parsed.error.issues, body) };
	const errors: FieldErrors = Object.create(null) as FieldErrors;
	const data = parsed.data;
	const phone = normalizePhone(data.phone, defaultCountry);
	if (!phone) errors.phone = 'is not a valid phone number (use international format, e.g. +966501234567)';
	const template = parseTemplate(data, errors);
	const media = template ? undefined : parseMedia(data, errors);
	if (template) {
		if (Object.keys(errors).length > 0 || !phone) return { errors };
		// The guards (policy included) read the message and the rendered parameters.
		const text = [data.message, ...template.bodyParameters].filter((part) => part.trim() !== '').join('\n');
		return { request: { instanceRef: data.instance_id, phone, text, purpose, media: undefined, template } };
	}
	if (!media && data.media_type === undefined && data.media === undefined) {
		if (data.message.trim() === '') errors.message = 'must not be empty';
		else if (characterCount(data.message) > MAX_TEXT_LENGTH)
			errors.message = `must be at most ${MAX_TEXT_LENGTH} characters`;
	}
	if (Object.keys(errors).length > 0 || !phone) return { errors };
	return { request: { instanceRef: data.instance_id, phone, text: data.message, purpose, media } };
}

/**
 * What the content policy compares: the text's content key (its letters and digits once look-alikes and
 * spelled-apart letters are undone, content-skeleton.ts) and the medium, whatever the caller.
 */
export function contentHash(request: Pick<SendRequest, 'text' | 'media' | 'template'>): string {
	const media = request.media ? (request.media.url ?? sha256(request.media.base64 ?? '')) : '';
	const template = request.template ? `\ntemplate:${request.template.name}` : '';
	return sha256(`${contentKey(request.text)}\n${media}${template}`);
}
