/**
 * A local Evolution API v2 (read at EvolutionAPI/evolution-api@3454bec, release 2.3.6), as far as the
 * gateway uses it: the `apikey` guard (global key or the instance's token), `/instance/create`,
 * `/instance/connectionState`, `/instance/connect`, `/webhook/set`, `/message/sendText`, `/message/sendMedia`,
 * errors as `{status, error, response:{message}}`, and webhooks posted like `WebhookController.emit` (the
 * envelope, the custom headers). Answers and payloads come from test/fixtures/providers/ (README there).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import notOnWhatsApp from '../fixtures/providers/evolution-api-v2.3.6-error-not-on-whatsapp.json';
import connectionClosed from '../fixtures/providers/evolution-api-v2.3.6-error-connection-closed.json';
import unauthorized from '../fixtures/providers/evolution-api-v2.3.6-error-unauthorized.json';
import connectQr from '../fixtures/providers/evolution-api-v2.3.6-connect-qr-response.json';
import webhookEvents from '../fixtures/providers/evolution-api-v2.3.6-webhook-events.json';

/** Event names a subscription may not have: Evolution validates `events` against EventController.events. */
function refusedEvents(webhook: Record<string, unknown> | undefined): string[] {
	const events = Array.isArray(webhook?.events) ? (webhook.events as unknown[]) : [];
	return events.map(String).filter((name) => !webhookEvents.accepted.includes(name));
}

export interface EvolutionRequest {
	method: string;
	path: string;
	headers: http.IncomingHttpHeaders;
	body: Record<string, unknown> | undefined;
}

interface FakeInstance {
	name: string;
	instanceId: string;
	token: string;
	state: 'open' | 'connecting' | 'close';
	webhook:
		{ url: string; headers: Record<string, string>; events: string[]; enabled: boolean; byEvents: boolean } | undefined;
	qrCount: number;
}

export interface EvolutionFakeOptions {
	globalKey: string;
	/** Every answer waits this long (the benchmark's 150 ms provider). */
	delayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function error(status: number, message: unknown) {
	const names: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };
	return { status, body: { status, error: names[status] ?? 'Internal Server Error', response: { message } } };
}

export class EvolutionApiFake {
	readonly requests: EvolutionRequest[] = [];
	readonly instances = new Map<string, FakeInstance>();
	/** Numbers (digits) `onWhatsApp` says do not exist. */
	readonly notOnWhatsApp = new Set<string>();
	/** When set, sends are received and never answered (a provider that hangs after taking the request). */
	stallSends = false;
	/** The answer the next send gets, whatever it asks (an error Evolution gives that a test wants). */
	nextSendAnswer: { status: number; body: unknown } | undefined;
	/**
	 * Called with the message id of an accepted send before the answer goes out, and awaited: a test posts
	 * the webhooks Evolution emits while it answers (send.message, a quick DELIVERY_ACK) ahead of the answer.
	 */
	beforeSendAnswer: ((messageId: string) => Promise<void>) | undefined;
	/** The QR code text `/instance/connect` answers with instead of the fixture's (a code a test wants). */
	qrCode: string | undefined;
	/** Resolves each time a send reaches the fake (tests wait on it instead of sleeping). */
	private sendWaiters: (() => void)[] = [];
	private requestWaiters: { prefix: string; resolve: (request: EvolutionRequest) => void }[] = [];
	private server: http.Server | undefined;
	url = '';
	private sent = 0;

	constructor(private readonly options: EvolutionFakeOptions) {}

	async start(port = 0): Promise<this> {
		this.server = http.createServer((req, res) => void this.handle(req, res));
		this.server.keepAliveTimeout = 5_000;
		await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
		this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
		return this;
	}

	async stop(): Promise<void> {
		if (!this.server) return;
		this.server.closeAllConnections();
		await new Promise<void>((resolve) => this.server!.close(() => resolve()));
	}

	get sends(): number {
		return this.sent;
	}

	/** A promise for the next request whose path starts with `prefix`. */
	nextRequest(prefix: string): Promise<EvolutionRequest> {
		return new Promise((resolve) => this.requestWaiters.push({ prefix, resolve }));
	}

	/** A promise for the next send that reaches the fake. */
	nextSend(): Promise<void> {
		return new Promise((resolve) => this.sendWaiters.push(resolve));
	}

	/** An instance that exists in Evolution already (made with the Evolution manager, say). */
	addInstance(name: string, state: FakeInstance['state'] = 'close'): FakeInstance {
		const instance: FakeInstance = {
			name,
			instanceId: randomUUID(),
			token: randomUUID().toUpperCase(),
			state,
			webhook: undefined,
			qrCount: 0,
		};
		this.instances.set(name, instance);
		return instance;
	}

	/** The phone scanned the QR code: the state opens and `connection.update` goes to the webhook. */
	async scan(name: string): Promise<void> {
		const instance = this.instances.get(name)!;
		instance.state = 'open';
		await this.emit(name, 'connection.update', {
			instance: name,
			wuid: '966500000001@s.whatsapp.net',
			profileName: 'Acme Support',
			state: 'open',
			statusReason: 200,
		});
	}

	/**
	 * Posts a webhook as Evolution does: to the instance's webhook URL with its custom headers, the
	 * envelope around `data`, only for subscribed events. Returns the gateway's answer.
	 */
	async emit(name: string, event: string, data: unknown): Promise<{ status: number; body: unknown }> {
		const instance = this.instances.get(name);
		const webhook = instance?.webhook;
		if (!webhook?.enabled) throw new Error(`no webhook set for ${name}`);
		const upper = event.replace(/[.-]/g, '_').toUpperCase();
		if (!webhook.events.includes(upper)) return { status: 0, body: 'not subscribed' };
		return this.post(webhook.url, webhook.headers, {
			event,
			instance: name,
			data,
			destination: webhook.url,
			date_time: new Date().toISOString(),
			sender: '966500000001@s.whatsapp.net',
			server_url: this.url,
			apikey: null,
		});
	}

	/** Posts a fixture envelope as it is (its `instance` and `data`) to the instance's webhook. */
	async deliver(name: string, envelope: { event: string; data: unknown }): Promise<{ status: number; body: unknown }> {
		return this.emit(name, envelope.event, envelope.data);
	}

	private async post(
		url: string,
		headers: Record<string, string>,
		body: unknown,
	): Promise<{ status: number; body: unknown }> {
		const answer = await fetch(url, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', ...headers },
			body: JSON.stringify(body),
		});
		const text = await answer.text();
		let parsed: unknown = text;
		try {
			parsed = JSON.parse(text);
		} catch {
			// not JSON
		}
		return { status: answer.status, body: parsed };
	}

	private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const raw = Buffer.concat(chunks).toString('utf8');
		let body: Record<string, unknown> | undefined;
		try {
			body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
		} catch {
			body = undefined;
		}
		const url = new URL(req.url ?? '/', this.url);
		const request = { method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body };
		this.requests.push(request);
		for (const waiter of this.requestWaiters.filter((item) => request.path.startsWith(item.prefix))) {
			this.requestWaiters.splice(this.requestWaiters.indexOf(waiter), 1);
			waiter.resolve(request);
		}
		const answer = await this.route(req.method ?? 'GET', url, req.headers, body);
		if (answer === undefined) return; // stalled: never answered
		if (this.options.delayMs) await sleep(this.options.delayMs);
		res.writeHead(answer.status, { 'Content-Type': 'application/json' });
		res.end(JSON.stringify(answer.body));
	}

	private authorized(headers: http.IncomingHttpHeaders, instanceName: string | undefined): boolean {
		const key = headers.apikey;
		if (key === this.options.globalKey) return true;
		return instanceName !== undefined && this.instances.get(instanceName)?.token === key;
	}

	private async route(
		method: string,
		url: URL,
		headers: http.IncomingHttpHeaders,
		body: Record<string, unknown> | undefined,
	): Promise<{ status: number; body: unknown } | undefined> {
		const control = /^\/_fake\/(scan|message)\/([^/]+)$/.exec(url.pathname);
		if (control && method === 'POST') return this.control(control[1], decodeURIComponent(control[2]), body);
		const match = /^\/(instance|message|webhook)\/(\w+)(?:\/([^/]+))?$/.exec(url.pathname);
		if (!match) return error(404, [`Cannot ${method} ${url.pathname}`]);
		const [, group, action, encodedName] = match;
		const name = encodedName === undefined ? undefined : decodeURIComponent(encodedName);
		if (!headers.apikey) return { status: 401, body: unauthorized };
		if (!this.authorized(headers, name)) return { status: 401, body: unauthorized };

		if (group === 'instance' && action === 'create' && method === 'POST') {
			const instanceName = String(body?.instanceName ?? '');
			if (this.instances.has(instanceName)) return error(403, [`This name "${instanceName}" is already in use.`]);
			const instance = this.addInstance(instanceName);
			const webhook = body?.webhook as FakeInstance['webhook'] | undefined;
			const refused = refusedEvents(body?.webhook as Record<string, unknown> | undefined);
			if (refused.length > 0)
				return error(
					400,
					refused.map((name) => `${name} is not one of enum values`),
				);
			if (webhook) instance.webhook = { ...webhook, headers: webhook.headers ?? {} };
			return {
				status: 201,
				body: {
					instance: {
						instanceName,
						instanceId: instance.instanceId,
						integration: body?.integration,
						status: 'created',
					},
					hash: instance.token,
					webhook: {
						webhookUrl: webhook?.url,
						webhookHeaders: webhook?.headers,
						webhookByEvents: webhook?.byEvents,
						webhookBase64: false,
					},
					settings: {
						rejectCall: false,
						groupsIgnore: false,
						alwaysOnline: false,
						readMessages: false,
						readStatus: false,
						syncFullHistory: false,
					},
					qrcode: {},
				},
			};
		}
		const instance = name === undefined ? undefined : this.instances.get(name);
		if (!instance) return error(404, [`The "${name}" instance does not exist`]);

		if (group === 'instance' && action === 'connectionState' && method === 'GET') {
			return { status: 200, body: { instance: { instanceName: instance.name, state: instance.state } } };
		}
		if (group === 'instance' && action === 'connect' && method === 'GET') {
			if (instance.state === 'open')
				return { status: 200, body: { instance: { instanceName: instance.name, state: 'open' } } };
			instance.state = 'connecting';
			instance.qrCount += 1;
			const number = url.searchParams.get('number');
			return {
				status: 200,
				body: {
					...connectQr,
					code: this.qrCode ?? connectQr.code,
					pairingCode: number ? connectQr.pairingCode : null,
					count: instance.qrCount,
				},
			};
		}
		if (group === 'webhook' && action === 'set' && method === 'POST') {
			const webhook = (body?.webhook ?? {}) as Record<string, unknown>;
			if (typeof webhook.url !== 'string' || typeof webhook.enabled !== 'boolean')
				return error(400, ['webhook requires property "url"']);
			const refused = refusedEvents(webhook);
			if (refused.length > 0)
				return error(
					400,
					refused.map((name) => `${name} is not one of enum values`),
				);
			instance.webhook = {
				url: webhook.url,
				enabled: webhook.enabled,
				headers: (webhook.headers as Record<string, string>) ?? {},
				byEvents: Boolean(webhook.byEvents),
				events:
					Array.isArray(webhook.events) && webhook.events.length > 0
						? (webhook.events as string[])
						: [...webhookEvents.accepted],
			};
			return { status: 201, body: { webhook: { instanceName: instance.name, webhook: instance.webhook } } };
		}
		if (group === 'message' && (action === 'sendText' || action === 'sendMedia') && method === 'POST') {
			return this.send(instance, action, body);
		}
		return error(404, [`Cannot ${method} ${url.pathname}`]);
	}

	/**
	 * Not Evolution's: what a person does on the phone, for trying the gateway by hand (docs/connect-whatsapp.md).
	 * `scan`: the QR code was scanned; `message`: someone writes `{from, text}` to the instance.
	 */
	private async control(action: string, name: string, body: Record<string, unknown> | undefined) {
		if (!this.instances.has(name)) return error(404, [`The "${name}" instance does not exist`]);
		if (action === 'scan') {
			await this.scan(name);
			return { status: 200, body: { instance: { instanceName: name, state: 'open' } } };
		}
		const from = String(body?.from ?? '').replace(/\D/g, '');
		const delivered = await this.emit(name, 'messages.upsert', {
			key: {
				remoteJid: `${from}@s.whatsapp.net`,
				fromMe: false,
				id: `3EB0${randomBytes(8).toString('hex').toUpperCase()}`,
			},
			pushName: 'Fake sender',
			status: 'DELIVERY_ACK',
			message: { conversation: String(body?.text ?? '') },
			contextInfo: null,
			messageType: 'conversation',
			messageTimestamp: Math.floor(Date.now() / 1000),
			instanceId: this.instances.get(name)!.instanceId,
			source: 'android',
		});
		return { status: 200, body: { gateway_answer: delivered } };
	}

	private async send(instance: FakeInstance, action: string, body: Record<string, unknown> | undefined) {
		this.sent += 1;
		for (const waiter of this.sendWaiters.splice(0)) waiter();
		if (this.stallSends) return undefined;
		const forced = this.nextSendAnswer;
		this.nextSendAnswer = undefined;
		if (forced) return forced;
		const number = typeof body?.number === 'string' ? body.number : undefined;
		if (!number) return error(400, ['instance requires property "number"']);
		if (action === 'sendText' && typeof body?.text !== 'string')
			return error(400, ['instance requires property "text"']);
		if (action === 'sendMedia') {
			const media = typeof body?.media === 'string' ? body.media : '';
			const isUrl = /^https?:\/\//.test(media);
			const isBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(media);
			if (!isUrl && !isBase64) return error(400, ['Owned media must be a url or base64']);
			if (isBase64 && body?.mediatype === 'document' && !body.fileName)
				return error(400, ['For base64 the file name must be informed.']);
		}
		if (instance.state !== 'open') return { status: 400, body: connectionClosed };
		if (this.notOnWhatsApp.has(number)) {
			return {
				status: 400,
				body: { ...notOnWhatsApp, response: { message: [{ jid: `${number}@s.whatsapp.net`, exists: false, number }] } },
			};
		}
		const id = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
		await this.beforeSendAnswer?.(id);
		const message =
			action === 'sendText'
				? { conversation: body?.text }
				: { [`${String(body?.mediatype)}Message`]: { caption: body?.caption, mimetype: body?.mimetype } };
		return {
			status: 201,
			body: {
				key: { remoteJid: `${number}@s.whatsapp.net`, fromMe: true, id },
				pushName: '',
				status: 'PENDING',
				message,
				contextInfo: null,
				messageType: action === 'sendText' ? 'conversation' : `${String(body?.mediatype)}Message`,
				messageTimestamp: Math.floor(Date.now() / 1000),
				instanceId: instance.instanceId,
				source: 'unknown',
			},
		};
	}
}
