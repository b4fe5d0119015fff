import type { IncomingHttpHeaders } from 'node:http';
import { listen } from './gateway';

export interface Received {
	/** The request path the gateway posted to. */
	path: string;
	headers: IncomingHttpHeaders;
	/** The exact bytes the gateway sent. */
	raw: Buffer;
	body: Record<string, unknown>;
	at: number;
}

type Reply = { status: number; headers?: Record<string, string> };

/**
 * A customer webhook receiver on loopback: records every request (headers and raw body) and answers
 * with the replies queued by the test (then 200).
 */
export async function startReceiver() {
	const received: Received[] = [];
	const replies: Reply[] = [];
	const waiters: { count: number; resolve: () => void }[] = [];
	const server = await listen((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const raw = Buffer.concat(chunks);
			received.push({
				path: req.url ?? '',
				headers: req.headers,
				raw,
				body: JSON.parse(raw.toString('utf8') || '{}'),
				at: Date.now(),
			});
			const reply = replies.shift() ?? { status: 200 };
			res.writeHead(reply.status, reply.headers);
			res.end('ok');
			for (const waiter of waiters.filter((w) => received.length >= w.count)) {
				waiters.splice(waiters.indexOf(waiter), 1);
				waiter.resolve();
			}
		});
	});
	return {
		url: `${server.url}/hook`,
		base: server.url,
		received,
		/** Queues answers for the next requests, in order. */
		reply: (...next: Reply[]) => replies.push(...next),
		/** Resolves when at least `count` requests have arrived (or rejects after `ms`). */
		waitFor: (count: number, ms = 5000) =>
			received.length >= count
				? Promise.resolve()
				: new Promise<void>((resolve, reject) => {
						const timer = setTimeout(
							() => reject(new Error(`expected ${count} deliveries, got ${received.length}`)),
							ms,
						);
						waiters.push({
							count,
							resolve: () => {
								clearTimeout(timer);
								resolve();
							},
						});
					}),
		events: (type?: string) => received.filter((item) => type === undefined || item.body.event === type),
		close: server.close,
	};
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
