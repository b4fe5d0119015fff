import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { signedDeliveryHeaders } from 'whatsapp-gateway-contract';
import type { Clock } from '../clock';
import { parseRetryAfter } from '../common/retry-after';
import { guardedLookup, isAllowedAddress } from './destination';
import type { DueDelivery } from './outbox-repository';

const MAX_RETRY_AFTER_MS = 24 * 3600_000;
/** A receiver's answer body is read and dropped; past this size the connection is cut instead. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface AttemptResult {
	statusCode: number | null;
	error: string | null;
	retryAfterMs: number | null;
}

/** A receiver's `Retry-After`, at most a day. */
function retryAfterOf(value: string | undefined, now: number): number | null {
	const wait = parseRetryAfter(value, now);
	return wait === undefined ? null : Math.min(wait, MAX_RETRY_AFTER_MS);
}

function drain(stream: Readable): Promise<void> {
	return new Promise((resolve) => {
		let size = 0;
		stream.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_RESPONSE_BYTES) stream.destroy();
		});
		stream.on('end', resolve);
		stream.on('close', resolve);
		stream.on('error', () => resolve());
	});
}

/**
 * The HTTP side of a delivery: one POST per attempt, signed in both schemes (the contract's
 * `signedDeliveryHeaders`), over keep-alive agents whose DNS lookup refuses disallowed addresses (no rebinding
 * past the check), IP literals checked here.
 */
export class SignedPoster {
	private readonly httpAgent: http.Agent;
	private readonly httpsAgent: https.Agent;
	/** Parsed destinations, with the IP-literal check done once per URL. */
	private readonly destinations = new Map<string, { url: URL; refused: string | undefined }>();

	constructor(
		private readonly clock: Clock,
		private readonly options: { allowPrivate: boolean; concurrency: number; timeoutMs: number },
	) {
		const lookup = guardedLookup({ allowPrivate: options.allowPrivate });
		const agentOptions = { keepAlive: true, maxSockets: options.concurrency, lookup };
		this.httpAgent = new http.Agent(agentOptions);
		this.httpsAgent = new https.Agent(agentOptions);
	}

	private destination(href: string): { url: URL; refused: string | undefined } {
		let known = this.destinations.get(href);
		if (!known) {
			const url = new URL(href);
			// Node does not call the agent's lookup for an IP literal, so such a destination is checked here.
			const host = url.hostname.replace(/^\[|\]$/g, '');
			const refused =
				isIP(host) !== 0 && !isAllowedAddress(host, { allowPrivate: this.options.allowPrivate })
					? `EDESTINATIONREFUSED: ${host} is not an allowed destination`
					: undefined;
			known = { url, refused };
			if (this.destinations.size > 10_000) this.destinations.clear();
			this.destinations.set(href, known);
		}
		return known;
	}

	/** The secret a rotation replaced, while its overlap lasts: it signs beside the current one until then. */
	private overlapping(delivery: DueDelivery): string | null {
		const until = delivery.previous_secret_expires_at;
		return delivery.previous_secret !== null && until !== null && this.clock.now() < until
			? delivery.previous_secret
			: null;
	}

	/**
	 * One signed POST with Node's own client (redirects are never followed by it): resolves with the status,
	 * or the error, within the attempt timeout, which covers connecting, the answer and reading its body.
	 */
	post(delivery: DueDelivery): Promise<AttemptResult> {
		const { url, refused } = this.destination(delivery.destination_url);
		if (refused) return Promise.resolve({ statusCode: null, error: refused, retryAfterMs: null });
		const timestamp = String(Math.floor(this.clock.now() / 1000));
		const body = Buffer.from(delivery.payload, 'utf8');
		const secure = url.protocol === 'https:';
		const timeoutMs = this.options.timeoutMs;
		return new Promise<AttemptResult>((resolve) => {
			let settled = false;
			const finish = (result: AttemptResult) => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				resolve(result);
			};
			const request = (secure ? https : http).request(
				url,
				{
					method: 'POST',
					agent: secure ? this.httpsAgent : this.httpAgent,
					headers: {
						'Content-Type': 'application/json',
						'Content-Length': body.length,
						'User-Agent': 'WhatsApp-Gateway-Webhooks/1',
						...signedDeliveryHeaders({
							secret: delivery.secret,
							previousSecret: this.overlapping(delivery),
							eventType: delivery.event_type,
							deliveryId: delivery.event_id,
							timestamp,
							body,
						}),
					},
				},
				(response) => {
					const retryAfter = response.headers['retry-after'];
					const result = {
						statusCode: response.statusCode ?? null,
						error: null,
						retryAfterMs: retryAfterOf(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, this.clock.now()),
					};
					void drain(response).then(() => finish(result));
				},
			);
			const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
			request.on('error', (error: NodeJS.ErrnoException) => {
				finish({
					statusCode: null,
					error: error.code ? `${error.code}: ${error.message}` : error.message,
					retryAfterMs: null,
				});
			});
			request.end(body);
		});
	}
}
