'use strict';

/**
 * BENCH_TIMING=1: wraps the parts of the send path of a running Gateway with timers, from the outside
 * (nothing in server/ is changed). The synchronous parts are event-loop time the request holds; the
 * database commits (and their fsync) happen inside the group commit's flush.
 *
 *   authenticate          AccountService.authenticate (key hash, key + account lookups)
 *   guards                the API's guard list, steps 4-13 in order (messaging/api-guards.ts); it runs
 *                         inside the group commit's flush, so its time is part of that line's too
 *   group commit          one flush of the commit queue: guards with log entries, outcomes, events, status reports
 *   provider.sendText     the sandbox provider
 *   send (wall)           SendService.send from entry to the answer, including queueing (not CPU)
 */

const { performance } = require('node:perf_hooks');

function instrument(gateway) {
	const parts = new Map();
	const order = [];
	const add = (name, ms) => {
		let part = parts.get(name);
		if (!part) {
			part = { calls: 0, totalMs: 0, maxMs: 0 };
			parts.set(name, part);
			order.push(name);
		}
		part.calls += 1;
		part.totalMs += ms;
		if (ms > part.maxMs) part.maxMs = ms;
	};
	const timeSync = (name, fn) =>
		function timed(...args) {
			const t0 = performance.now();
			try {
				return fn.apply(this, args);
			} finally {
				add(name, performance.now() - t0);
			}
		};

	const { messaging } = gateway;
	gateway.accounts.authenticate = timeSync('authenticate', gateway.accounts.authenticate.bind(gateway.accounts));
	messaging.apiGuards.run = timeSync('guards', messaging.apiGuards.run.bind(messaging.apiGuards));
	// The commit queue is private in TypeScript; at run time it is a plain property.
	const writes = gateway.writes;
	writes.flush = timeSync('group commit', writes.flush.bind(writes));
	gateway.sandbox.sendText = timeSync('provider.sendText', gateway.sandbox.sendText.bind(gateway.sandbox));
	const originalSend = messaging.sends.send.bind(messaging.sends);
	messaging.sends.send = async (...args) => {
		const t0 = performance.now();
		try {
			return await originalSend(...args);
		} finally {
			add('send (wall)', performance.now() - t0);
		}
	};

	return {
		report() {
			return order.map((name) => ({ name, ...parts.get(name) }));
		},
	};
}

/** A table of the parts; `wallMs` is the time the load ran, to show each part's share of one core. */
function format(report, wallMs) {
	const lines = ['Send-path timing inside the gateway (BENCH_TIMING=1; warm-up + measured run)'];
	lines.push(
		`  ${'part'.padEnd(34)} ${'calls'.padStart(8)} ${'mean µs'.padStart(9)} ${'max ms'.padStart(8)} ${'total ms'.padStart(10)} ${'% of wall'.padStart(9)}`,
	);
	for (const part of report) {
		if (part.calls === 0) continue;
		const wall = part.name.includes('(wall)');
		lines.push(
			`  ${part.name.padEnd(34)} ${String(part.calls).padStart(8)} ${((part.totalMs / part.calls) * 1000).toFixed(1).padStart(9)} ` +
				`${part.maxMs.toFixed(2).padStart(8)} ${part.totalMs.toFixed(0).padStart(10)} ${(wall ? '-' : ((part.totalMs / wallMs) * 100).toFixed(1)).padStart(9)}`,
		);
	}
	return lines.join('\n');
}

module.exports = { instrument, format };
