'use strict';

/**
 * The load side of the benchmarks: autocannon runs (stopped all at once when a server dies), one request
 * by hand, the send request body, and a target's warm-up + measured run. bench/harness.js re-exports it.
 */

const http = require('node:http');
const autocannon = require('autocannon');
const { recipient } = require('./gateway-setup');

const activeCannons = new Set();

function cannon(options) {
	return new Promise((resolve, reject) => {
		const instance = autocannon(options, (error, result) => {
			activeCannons.delete(instance);
			if (error) reject(error);
			else resolve(result);
		});
		activeCannons.add(instance);
	});
}

/** One request by hand: { status, body }. */
function request(port, { method = 'POST', path: urlPath, headers = {}, body = '' }) {
	return new Promise((resolve, reject) => {
		const req = http.request(
			{
				host: '127.0.0.1',
				port,
				method,
				path: urlPath,
				headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
				agent: false,
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk) => {
					text += chunk;
				});
				res.on('end', () => resolve({ status: res.statusCode, body: text }));
			},
		);
		req.setTimeout(10_000, () => req.destroy(new Error('request timed out after 10 s')));
		req.on('error', reject);
		req.end(body);
	});
}

/** Unique recipient and text per request, so neither the content policy nor the recipient limiter refuses. */
function makeSendBody(n) {
	return JSON.stringify({
		instance_id: 'bench-line',
		phone: recipient(n),
		message: `Your order #${n} has been shipped.`,
		message_purpose: 'transactional',
	});
}

function stopCannons() {
	for (const instance of activeCannons) {
		try {
			instance.stop();
		} catch {
			// ignore
		}
	}
}

/**
 * Warm-up (not measured) then the measured run against one target; `beforeMeasured` runs in between
 * (the children reset their RSS peak and CPU counters there). `firstError` keeps the first non-2xx answer.
 *
 * @param {{ connections: number, warmupS: number, durationS: number, rate?: number }} load
 */
async function measure(name, port, makeRequests, load, { beforeMeasured } = {}) {
	const firstError = { status: undefined, body: undefined };
	const base = { url: `http://127.0.0.1:${port}`, connections: load.connections, pipelining: 1, timeout: 10 };
	// A fixed request rate (BENCH_RATE) instead of as many as answered: CPU per request without saturation.
	// autocannon sends each connection's share of a second in a burst as the second starts (and adds
	// coordinated-omission samples to the latency histogram): its latency then is not the server's.
	if (load.rate) base.overallRate = load.rate;
	let warmup;
	if (load.warmupS > 0) {
		process.stdout.write(`  ${name}: warm-up ${load.warmupS} s ... `);
		warmup = await cannon({ ...base, duration: load.warmupS, requests: makeRequests(firstError) });
		process.stdout.write(`${Math.round(warmup.requests.average)} req/s\n`);
	}
	if (beforeMeasured) await beforeMeasured();
	process.stdout.write(`  ${name}: measuring ${load.durationS} s ... `);
	const result = await cannon({ ...base, duration: load.durationS, requests: makeRequests(firstError) });
	process.stdout.write(`${Math.round(result.requests.average)} req/s\n`);
	return { warmup, result, firstError };
}

/** BENCH_IDEMPOTENCY_KEYS=1: every send carries its own Idempotency-Key, as the n8n Send node's do. */
const KEYED = process.env.BENCH_IDEMPOTENCY_KEYS === '1';

/** autocannon's request list for POST `urlPath` with a fresh send body each time, noting the first non-2xx answer. */
function sendRequests(urlPath, headers, nextNumber) {
	return (firstError) => [
		{
			method: 'POST',
			path: urlPath,
			headers,
			setupRequest(req) {
				const n = nextNumber();
				req.body = makeSendBody(n);
				if (KEYED) req.headers = { ...headers, 'Idempotency-Key': `bench-${process.pid}-${n}` };
				return req;
			},
			onResponse(status, body) {
				if ((status < 200 || status >= 300) && firstError.status === undefined) {
					firstError.status = status;
					firstError.body = body;
				}
			},
		},
	];
}

module.exports = { cannon, stopCannons, request, makeSendBody, measure, sendRequests };
