/**
 * The one table of error codes the gateway answers with: HTTP status and the exact message text.
 * Seed 002's table is the contract for the send pipeline; the codes after it are our additions
 * (docs/api.md, "Errors") and the 3CX codes the OpenAPI enum lacked.
 */
export const ERROR_TABLE = {
	unsupported_media_type: { status: 415, message: 'This endpoint requires application/json.' },
	invalid_api_key: { status: 401, message: 'A valid API key is required.' },
	revoked_api_key: { status: 401, message: 'This API key has been revoked.' },
	invalid_json: { status: 400, message: 'Request body must be valid JSON.' },
	validation_error: { status: 422, message: 'The request payload is missing required fields.' },
	module_not_enabled: { status: 403, message: 'API access is not enabled for this account.' },
	active_plan_required: { status: 403, message: 'An active plan is required before sending messages.' },
	invalid_instance: { status: 404, message: 'The requested instance was not found for this API key.' },
	message_purpose_required: {
		status: 422,
		message:
			'message_purpose is required. Allowed values are transactional, operational, support, internal_team, and authentication.',
	},
	message_purpose_not_allowed: {
		status: 422,
		message: 'WA Gateway does not support marketing, cold outreach, political, or bulk campaign messaging.',
	},
	daily_message_limit_exceeded: {
		status: 429,
		message:
			'Your daily transactional message limit has been reached. Please try again tomorrow or request a higher reviewed limit.',
	},
	monthly_message_limit_exceeded: {
		status: 429,
		message:
			'Your monthly fair-use message limit has been reached. Please contact support for a reviewed higher limit.',
	},
	recipient_suppressed: {
		status: 403,
		message: 'This recipient has opted out or has been blocked from non-essential messages.',
	},
	sending_throttled: {
		status: 429,
		message: 'Sending speed has been temporarily limited to protect gateway reliability and prevent bulk messaging.',
	},
	instance_paused_for_review: {
		status: 423,
		message: 'This instance has been paused for responsible messaging review',
	},
	policy_violation: {
		status: 403,
		message:
			'This message appears to violate WA Gateway responsible messaging rules. Bulk marketing, spam, and cold outreach are not allowed.',
	},
	gateway_send_failed: {
		status: 502,
		message:
			'The message passed responsible messaging checks, but delivery could not be completed. Please try again or contact support.',
	},
	internal_error: { status: 500, message: 'The request could not be processed. Please try again or contact support.' },
	// 3CX middleware (seed 001 enum and seed 002 troubleshooting table).
	invalid_3cx_webhook: { status: 401, message: 'Invalid 3CX webhook request.' },
	payload_too_large: { status: 413, message: 'The request body is too large.' },
	webhook_rate_limited: { status: 429, message: 'Too many webhook requests. Slow down the event sender.' },
	missing_phone: { status: 400, message: 'The event payload does not include the customer phone.' },
	missing_message_text: { status: 400, message: 'The event payload does not include message text.' },
	conversation_window_closed: {
		status: 403,
		message:
			'The recipient has not messaged first or the last inbound WhatsApp message is outside the active conversation window.',
	},
	outbound_disabled: { status: 403, message: 'Outbound messaging is disabled in the integration settings.' },
	call_events_disabled: { status: 403, message: 'Call events are disabled in the integration settings.' },
	// Ours: seed 001 answers 400 "Invalid JSON or event payload"; this is the event-payload half.
	invalid_3cx_event: { status: 400, message: 'The 3CX event payload is not valid.' },
	// Our additions.
	idempotency_key_reused: {
		status: 422,
		message: 'This Idempotency-Key was already used with a different request body.',
	},
	idempotency_request_in_progress: {
		status: 409,
		message: 'A request with this Idempotency-Key is still being processed. Retry shortly.',
	},
	not_found: { status: 404, message: 'The requested resource was not found.' },
	method_not_allowed: { status: 405, message: 'This method is not allowed on this route.' },
	invalid_admin_token: { status: 401, message: 'A valid operator token is required.' },
	invalid_provider_webhook: { status: 401, message: 'The provider webhook could not be authenticated.' },
	storage_unavailable: {
		status: 503,
		message: 'The gateway cannot write to its database right now (the disk may be full). Please retry shortly.',
	},
	// Real providers (issue 10).
	instance_not_connected: {
		status: 409,
		message:
			'This instance is not connected to WhatsApp. Connect it (scan its QR code or check its provider settings) and try again.',
	},
	template_not_supported: {
		status: 422,
		message:
			"Template messages need an instance on the WhatsApp Cloud API provider; this instance's provider cannot send them.",
	},
	provider_request_failed: {
		status: 502,
		message: 'The WhatsApp provider could not complete the request. Check the provider settings and try again.',
	},
	webhook_limit_reached: {
		status: 422,
		message:
			'This account has reached its webhook subscription limit. Delete a subscription or request a reviewed higher limit.',
	},
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export type ErrorDetails = Record<string, unknown>;

/** A refusal with a code from the table. Thrown by guards and handlers; mapped to JSON by the error middleware. */
export class ApiError extends Error {
	readonly status: number;

	constructor(
		readonly code: ErrorCode,
		readonly details: ErrorDetails = {},
		readonly headers: Record<string, string> = {},
		/** Instead of the table's text, where one code covers several cases (the module that is off). */
		message: string = ERROR_TABLE[code].message,
	) {
		super(message);
		this.name = 'ApiError';
		this.status = ERROR_TABLE[code].status;
	}
}

export interface ErrorBody {
	success: false;
	error: ErrorCode;
	message: string;
	details: ErrorDetails;
}

export function errorBody(error: ApiError): ErrorBody {
	return { success: false, error: error.code, message: error.message, details: error.details };
}
