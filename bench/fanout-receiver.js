'use strict';

/**
 * The customer side of the fan-out benchmark: a plain node:http server on loopback, in its own process,
 * that verifies every delivery's signature as a customer would (HMAC-SHA256 with the subscription's secret
 * over `timestamp + "." + raw body`, written here from the documented contract rather than imported from
 * the gateway), and answers 200.
 *
 * Each subscription posts to its own path (/hook/0, /hook/1, …) so the receiver knows which secret applies.
 * Per phase ('reset' starts one) it counts requests, distinct deliveries (path + X-WhatsApp-Gateway-Delivery),
 * duplicates, invalid signatures, and the latency of each delivery: receipt time minus the event's
 * `timestamp` (ISO, millisecond resolution; gateway and receiver share the machine's clock).
 *
 * Commands: 'configure' { secrets: { [path]: secret } }, 'reset', 'progress', 'report'.
 */

const crypto = require('node:crypto');
const http = require('node:http');
const { runIpcChild, quantile } = require('./child');

const DELIVERY_HEADER = 'x-whatsapp-gateway-delivery';
const TIMESTAMP_HEADER = 'x-whatsapp-gateway-timestamp';
const SIGNATURE_HEADER = 'x-whatsapp-gateway-signature';

function verify(secret, timestamp, raw, signature) {
	if (typeof timestamp !== 'string' || typeof signature !== 'string' || !signature.startsWith('sha256=')) return false;
	const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(raw).digest();
	const given = Buffer.from(signature.slice('sha256='.length), 'hex');
	return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function newPhase() {
	return {
		requests: 0,
		distinct: new Set(),
		duplicates: 0,
		invalid: 0,
		firstInvalid: undefined,
		unknownPath: 0,
		badBody: 0,
		latencies: [],
		firstAckAt: undefined,
		lastAckAt: undefined,
	};
}

runIpcChild({
	async setup() {
		let secrets = new Map();
		let phase = newPhase();
		let totalRequests = 0;
		let totalInvalid = 0;

		const server = http.createServer((req, res) => {
			const chunks = [];
			req.on('data', (chunk) => chunks.push(chunk));
			req.on('end', () => {
				const receivedAt = Date.now();
				const raw = Buffer.concat(chunks);
				const p = phase;
				p.requests += 1;
				totalRequests += 1;
				const secret = secrets.get(req.url);
				const signature = req.headers[SIGNATURE_HEADER];
				if (secret === undefined) {
					p.unknownPath += 1;
				} else if (!verify(secret, req.headers[TIMESTAMP_HEADER], raw, signature)) {
					p.invalid += 1;
					totalInvalid += 1;
					if (!p.firstInvalid) {
						p.firstInvalid = {
							path: req.url,
							delivery: req.headers[DELIVERY_HEADER],
							timestamp: req.headers[TIMESTAMP_HEADER],
							signature,
						};
					}
				}
				const key = `${req.url} ${req.headers[DELIVERY_HEADER]}`;
				if (p.distinct.has(key)) p.duplicates += 1;
				else p.distinct.add(key);
				try {
					const created = Date.parse(JSON.parse(raw.toString('utf8')).timestamp);
					if (Number.isFinite(created)) p.latencies.push(receivedAt - created);
					else p.badBody += 1;
				} catch {
					p.badBody += 1;
				}
				res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' });
				res.end('ok');
				const ackAt = Date.now();
				if (p.firstAckAt === undefined) p.firstAckAt = ackAt;
				p.lastAckAt = ackAt;
			});
		});
		server.keepAliveTimeout = 65_000;
		await new Promise((resolve, reject) => {
			server.once('error', reject);
			server.listen(0, '127.0.0.1', resolve);
		});

		return {
			port: server.address().port,
			info: {},
			commands: {
				configure({ secrets: given }) {
					secrets = new Map(Object.entries(given));
					return { paths: secrets.size };
				},
				reset() {
					phase = newPhase();
					return {};
				},
				progress() {
					return { requests: phase.requests, distinct: phase.distinct.size };
				},
				report() {
					const sorted = Float64Array.from(phase.latencies).sort();
					const sum = phase.latencies.reduce((a, b) => a + b, 0);
					return {
						requests: phase.requests,
						distinct: phase.distinct.size,
						duplicates: phase.duplicates,
						invalid: phase.invalid,
						firstInvalid: phase.firstInvalid,
						unknownPath: phase.unknownPath,
						badBody: phase.badBody,
						firstAckAt: phase.firstAckAt,
						lastAckAt: phase.lastAckAt,
						latency: {
							count: sorted.length,
							mean: sorted.length ? sum / sorted.length : NaN,
							p50: quantile(sorted, 0.5),
							p90: quantile(sorted, 0.9),
							p99: quantile(sorted, 0.99),
							max: sorted.length ? sorted[sorted.length - 1] : NaN,
						},
					};
				},
			},
			stats: () => ({ totalRequests, totalInvalid }),
			close() {
				server.close();
				server.closeAllConnections();
			},
		};
	},
});
