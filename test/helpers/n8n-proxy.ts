/**
 * A loopback proxy between n8n and the gateway: it records every exchange as it went over the wire
 * (what n8n-core's HTTP client sent, what the gateway answered), and can lose an answer — forward
 * the request, let the gateway process it, then cut the client's connection instead of replying —
 * which is what a proxy timeout or a dropped connection does to a real n8n.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import { listen } from './gateway';

export interface ProxiedExchange {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	/** The request body as JSON, or undefined when there was none. */
	body: unknown;
	/** The request body's exact bytes (what a signature covers). */
	raw: Buffer;
	response?: { statusCode: number; headers: IncomingHttpHeaders; body: unknown };
	/** The gateway answered, but the client never got the answer. */
	lost: boolean;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		stream.on('data', (chunk: Buffer) => chunks.push(chunk));
		stream.on('end', () => resolve(Buffer.concat(chunks)));
		stream.on('error', reject);
	});
}

function parse(raw: Buffer): unknown {
	if (raw.length === 0) return undefined;
	try {
		return JSON.parse(raw.toString('utf8'));
	} catch {
		return raw.toString('utf8');
	}
}

export async function startGatewayProxy(targetUrl: string) {
	const exchanges: ProxiedExchange[] = [];
	let answersToLose = 0;
	const server = await listen((req, res) => {
		void (async () => {
			const raw = await readAll(req);
			const exchange: ProxiedExchange = {
				method: req.method ?? 'GET',
				path: req.url ?? '/',
				headers: req.headers,
				body: parse(raw),
				raw,
				lost: false,
			};
			exchanges.push(exchange);
			const upstream = await new Promise<http.IncomingMessage>((resolve, reject) => {
				const forward = http.request(
					`${targetUrl}${exchange.path}`,
					{ method: exchange.method, headers: req.headers },
					resolve,
				);
				forward.on('error', reject);
				forward.end(raw);
			});
			const answer = await readAll(upstream);
			exchange.response = { statusCode: upstream.statusCode ?? 0, headers: upstream.headers, body: parse(answer) };
			if (answersToLose > 0) {
				answersToLose -= 1;
				exchange.lost = true;
				req.socket.destroy();
				return;
			}
			res.writeHead(upstream.statusCode ?? 502, upstream.headers).end(answer);
		})().catch(() => req.socket.destroy());
	});
	return {
		url: server.url,
		exchanges,
		/** The next `count` requests reach the gateway, but their answers never reach the client. */
		loseNextAnswers(count = 1) {
			answersToLose += count;
		},
		close: server.close,
	};
}

export type GatewayProxy = Awaited<ReturnType<typeof startGatewayProxy>>;
