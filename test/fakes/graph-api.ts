/**
 * A local Graph API for the WhatsApp Cloud API (v23.0), as far as the gateway uses it:
 * `POST /v23.0/{phone_number_id}/messages`, `POST /v23.0/{phone_number_id}/media` (multipart),
 * `GET /v23.0/{phone_number_id}`, Bearer tokens, Graph errors, and signed webhook notifications
 * (`X-Hub-Signature-256`). Answers and payloads come from test/fixtures/providers/ (README there).
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sendResponse from '../fixtures/providers/meta-cloud-api-v23.0-send-response.json';
import invalidToken from '../fixtures/providers/meta-cloud-api-v23.0-error-190-invalid-token.json';

export const GRAPH_VERSION = 'v23.0';

export interface GraphRequest {
	method: string;
	path: string;
	headers: http.IncomingHttpHeaders;
	/** JSON bodies parsed; multipart bodies raw. */
	body: unknown;
	raw: Buffer;
}

export interface GraphFakeOptions {
	phoneNumberId: string;
	accessToken: string;
	delayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GraphApiFake {
	readonly requests: GraphRequest[] = [];
	/** `to` (digits) → the Graph error answer (HTTP status and body) a send to it gets. */
	readonly failures = new Map<string, { status: number; body: unknown; headers?: Record<string, string> }>();
	/** When set, message sends are received and never answered (Graph hanging after taking the request). */
	stallSends = false;
	/**
	 * Called with the wamid of an accepted send before the answer goes out, and awaited: a test posts the
	 * status webhooks Meta can send before the gateway has the answer (and so before it commits the outcome).
	 */
	beforeSendAnswer: ((wamid: string) => Promise<void>) | undefined;
	/** The answer the next media upload gets instead of an id (an upload Graph refuses). */
	uploadFailure: { status: number; body: unknown } | undefined;
	url = '';
	private server: http.Server | undefined;

	constructor(private readonly options: GraphFakeOptions) {}

	/** What GATEWAY_CLOUD_GRAPH_URL (or an instance's graphUrl) is set to. */
	get graphUrl(): string {
		return `${this.url}/${GRAPH_VERSION}`;
	}

	async start(port = 0): Promise<this> {
		this.server = http.createServer((req, res) => void this.handle(req, res));
		await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
		this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
		return this;
	}

	async stop(): Promise<void> {
		if (!this.server) return;
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server!.close(() => resolve()));
	}

	messageRequests(): GraphRequest[] {
		return this.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/messages'));
	}

	/** Posts a notification as Meta does: JSON body, `X-Hub-Signature-256` with the app secret. */
	static async notify(
		url: string,
		appSecret: string,
		body: unknown,
		signature?: string,
	): Promise<{ status: number; body: unknown }> {
		const raw = JSON.stringify(body);
		const signed = signature ?? `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
		const answer = await fetch(url, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signed },
			body: raw,
		});
		const text = await answer.text();
		try {
			return { status: answer.status, body: JSON.parse(text) as unknown };
		} catch {
			return { status: answer.status, body: text };
		}
	}

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const raw = Buffer.concat(chunks);
		const json = (req.headers['content-type'] ?? '').startsWith('application/json');
		let body: unknown = raw;
		if (json) {
			try {
				body = JSON.parse(raw.toString('utf8'));
			} catch {
				body = undefined;
			}
		}
		const url = new URL(req.url ?? '/', this.url);
		this.requests.push({ method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body, raw });
		if (this.stallSends && url.pathname.endsWith('/messages')) return; // never answered
		const answer = this.route(req.method ?? 'GET', url.pathname, req.headers, body, raw);
		const accepted = answer.status === 200 && url.pathname.endsWith('/messages');
		if (accepted && this.beforeSendAnswer) {
			await this.beforeSendAnswer((answer.body as { messages: { id: string }[] }).messages[0].id);
		}
		if (this.options.delayMs) await sleep(this.options.delayMs);
		res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
		res.end(JSON.stringify(answer.body));
	}

	private route(
		method: string,
		path: string,
		headers: http.IncomingHttpHeaders,
		body: unknown,
		raw: Buffer,
	): { status: number; body: unknown; headers?: Record<string, string> } {
		if (headers.authorization !== `Bearer ${this.options.accessToken}`) return { status: 401, body: invalidToken };
		const base = `/${GRAPH_VERSION}/${this.options.phoneNumberId}`;
		if (method === 'GET' && path === base) {
			return {
				status: 200,
				body: {
					display_phone_number: '+1 555-078-3881',
					verified_name: 'Acme Support',
					id: this.options.phoneNumberId,
				},
			};
		}
		if (method === 'POST' && path === `${base}/media`) {
			const type = headers['content-type'] ?? '';
			const text = raw.toString('latin1');
			if (
				!type.startsWith('multipart/form-data') ||
				!text.includes('name="messaging_product"') ||
				!text.includes('name="file"')
			) {
				return {
					status: 400,
					body: {
						error: {
							message: '(#100) The parameter file is required.',
							type: 'OAuthException',
							code: 100,
							fbtrace_id: 'AbC',
						},
					},
				};
			}
			if (this.uploadFailure) return this.uploadFailure;
			return { status: 200, body: { id: String(1_000_000_000_000_000 + this.requests.length) } };
		}
		if (method === 'POST' && path === `${base}/messages`) {
			const message = body as Record<string, unknown> | undefined;
			if (
				message?.messaging_product !== 'whatsapp' ||
				typeof message.to !== 'string' ||
				typeof message.type !== 'string'
			) {
				return {
					status: 400,
					body: {
						error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, fbtrace_id: 'AbC' },
					},
				};
			}
			const failure = this.failures.get(message.to);
			if (failure) return failure;
			const id = `wamid.${randomBytes(24).toString('base64url')}`;
			return {
				status: 200,
				body: {
					...sendResponse,
					contacts: [{ input: message.to, wa_id: message.to }],
					messages: [{ id, message_status: 'accepted' }],
				},
			};
		}
		return {
			status: 400,
			body: {
				error: {
					message: `Unsupported ${method} request.`,
					type: 'GraphMethodException',
					code: 100,
					fbtrace_id: 'AbC',
				},
			},
		};
	}
}
