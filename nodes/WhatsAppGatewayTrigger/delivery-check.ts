import {
	SIGNATURE_HEADERS_LOWER,
	SIGNATURE_TOLERANCE_SECONDS,
	STANDARD_WEBHOOK_HEADERS,
	verifySignature,
	verifyStandardSignature,
	type SignatureFailure,
} from '../../contract/src/signature';

/**
 * How many delivery ids the trigger remembers whatever their age. The gateway retries one delivery over about
 * 28 hours; a repeat arrives only after an attempt got no 2xx, so a window of the latest deliveries covers it.
 */
export const REMEMBERED_DELIVERIES = 100;

/**
 * How many signed `webhook-id`s the trigger keeps while their timestamps are inside the tolerance, so a captured
 * delivery replayed within that window is recognised even after more than REMEMBERED_DELIVERIES others.
 */
export const MAX_REPLAY_WINDOW_IDS = 1000;

/** What the trigger keeps in its static data to recognise repeats and replays. */
export interface DeliveryMemory {
	/** The ids of the latest emitted deliveries, oldest first. */
	recentDeliveryIds?: string[];
	/** Signed `webhook-id` → its signed `webhook-timestamp`, while that timestamp is inside the tolerance. */
	replayWindow?: Record<string, number>;
	/**
	 * The latest timestamp of an id dropped from a full replay window while still inside the tolerance: a
	 * delivery signed at or before it cannot be told from a replay, so it is refused and the gateway retries it
	 * with a fresh timestamp.
	 */
	replayFloor?: number;
}

type Headers = Record<string, string | string[] | undefined>;

export type DeliveryCheck =
	| { valid: true; deliveryId: string | undefined; signedTimestamp: number | undefined }
	| { valid: false; reason: SignatureFailure };

function header(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies a delivery over its raw bytes. The Standard Webhooks signature, which also signs the delivery id, is
 * checked whenever one of its headers is there, and always once the subscription is known to carry it
 * (`requireStandard`): stripping those headers then cannot fall back to the seed's signature, which leaves the
 * id unsigned. Otherwise the seed's `X-WhatsApp-Gateway-Signature` is checked, as before.
 */
export function checkDelivery(input: {
	headers: Headers;
	rawBody: string | Buffer;
	secret: string;
	requireStandard: boolean;
	nowSeconds: number;
}): DeliveryCheck {
	const { headers, rawBody, secret, nowSeconds } = input;
	const id = header(headers[STANDARD_WEBHOOK_HEADERS.id]);
	const timestamp = header(headers[STANDARD_WEBHOOK_HEADERS.timestamp]);
	const signature = header(headers[STANDARD_WEBHOOK_HEADERS.signature]);
	if (input.requireStandard || id !== undefined || timestamp !== undefined || signature !== undefined) {
		const check = verifyStandardSignature({ secret, id, timestamp, signature, rawBody, nowSeconds });
		if (!check.valid) return check;
		return { valid: true, deliveryId: id, signedTimestamp: Number(timestamp) };
	}
	const check = verifySignature({
		secret,
		timestamp: header(headers[SIGNATURE_HEADERS_LOWER.timestamp]),
		signature: header(headers[SIGNATURE_HEADERS_LOWER.signature]),
		rawBody,
		nowSeconds,
	});
	if (!check.valid) return check;
	return { valid: true, deliveryId: header(headers[SIGNATURE_HEADERS_LOWER.delivery]), signedTimestamp: undefined };
}

/**
 * Records a verified delivery: `new` (remembered from now on), `duplicate` (its id was seen: a gateway retry or
 * a replay; acknowledge it and start nothing) or `undecidable` (signed before the replay floor: refuse it so
 * the gateway tries again with a new timestamp). A seed-only delivery has no signed id, so only the latest ids
 * are compared, as before.
 */
export function rememberDelivery(
	memory: DeliveryMemory,
	deliveryId: string | undefined,
	signedTimestamp: number | undefined,
	nowSeconds: number,
): 'new' | 'duplicate' | 'undecidable' {
	if (deliveryId === undefined) return 'new';
	const recent = memory.recentDeliveryIds ?? [];
	if (signedTimestamp === undefined) {
		if (recent.includes(deliveryId)) return 'duplicate';
		memory.recentDeliveryIds = [...recent, deliveryId].slice(-REMEMBERED_DELIVERIES);
		return 'new';
	}
	// Ids whose timestamps left the tolerance are dropped: a replay of them fails the signature check anyway.
	const window = Object.fromEntries(
		Object.entries(memory.replayWindow ?? {}).filter(([, at]) => nowSeconds - at <= SIGNATURE_TOLERANCE_SECONDS),
	);
	if (recent.includes(deliveryId) || deliveryId in window) return 'duplicate';
	if (memory.replayFloor !== undefined && signedTimestamp <= memory.replayFloor) return 'undecidable';
	window[deliveryId] = signedTimestamp;
	const entries = Object.entries(window).sort(([, a], [, b]) => a - b);
	const dropped = entries.slice(0, Math.max(0, entries.length - MAX_REPLAY_WINDOW_IDS));
	for (const [id, at] of dropped) {
		delete window[id];
		memory.replayFloor = Math.max(memory.replayFloor ?? at, at);
	}
	memory.replayWindow = window;
	memory.recentDeliveryIds = [...recent, deliveryId].slice(-REMEMBERED_DELIVERIES);
	return 'new';
}
