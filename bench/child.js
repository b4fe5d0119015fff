'use strict';

/**
 * Plumbing shared by the benchmark's child processes: the send benchmark's servers (baseline-server.js,
 * gateway-server.js, through `runChild`) and the fan-out benchmark's gateway and receiver
 * (fanout-gateway.js, fanout-receiver.js, through `runIpcChild`).
 *
 * The child is started by bench/run.js (or bench/fanout.js) with child_process.fork(), so it has an IPC channel:
 *   child  -> parent  { type: 'ready', port, info }            once set up (listening, for a server)
 *   child  -> parent  { type: 'fatal', error }                  on an uncaught error (then exits 1)
 *   parent -> child   { id, cmd, args }                         args only where the command takes any
 *   child  -> parent  { id, ok: true, result } | { id, ok: false, error }
 *
 * Built in: 'stats' (RSS, event-loop utilisation and CPU since the last 'reset-peak', plus the child's own
 * `stats()`), 'reset-peak' and 'stop'. Everything else goes to `commands[cmd](args)`, which may return a
 * promise.
 *
 * RSS is sampled every 100 ms (process.memoryUsage().rss); `peakRss` is the maximum over the whole life of
 * the process, `phasePeakRss` the maximum since the last 'reset-peak' (the parent resets it before the
 * measured run).
 */

const http = require('node:http');
const { performance } = require('node:perf_hooks');

const SAMPLE_INTERVAL_MS = 100;

function errorText(error) {
	return error && error.stack ? error.stack : String(error);
}

/**
 * @param {object} options
 * @param {(context: { fatal: (error: unknown) => void }) => Promise<{ port?: number, info?: object,
 *   commands?: Record<string, (args: any) => any>, stats?: () => object, close?: () => void }>} options.setup
 * @param {boolean} [options.memoryDetail] 'stats' also reports rssAtReady, heapUsed, heapTotal, external
 *   and the number of RSS samples taken
 */
function runIpcChild({ setup, memoryDetail = false }) {
	if (typeof process.send !== 'function') {
		console.error('this script is started by bench/run.js (it needs an IPC channel)');
		process.exit(2);
	}

	const fatal = (error) => {
		try {
			process.send({ type: 'fatal', error: errorText(error) });
		} catch {
			// the channel may be gone already
		}
		console.error(errorText(error));
		process.exit(1);
	};
	process.on('uncaughtException', fatal);
	process.on('unhandledRejection', fatal);
	// The parent went away (crashed or was killed): do not linger.
	process.on('disconnect', () => process.exit(1));

	let peakRss = 0;
	let phasePeakRss = 0;
	let samples = 0;
	let rssAtReady = 0;
	const sample = () => {
		const rss = process.memoryUsage().rss;
		samples += 1;
		if (rss > peakRss) peakRss = rss;
		if (rss > phasePeakRss) phasePeakRss = rss;
		return rss;
	};
	sample();
	// Event-loop utilisation and CPU time since the last 'reset-peak': is the child saturated, and how much
	// of its time is in the kernel (system) rather than JavaScript (user)?
	let eluMark = performance.eventLoopUtilization();
	let cpuMark = process.cpuUsage();
	let wallMark = performance.now();
	const sampler = setInterval(sample, SAMPLE_INTERVAL_MS);
	sampler.unref();

	let child;
	let stopping = false;
	const stop = () => {
		if (stopping) return;
		stopping = true;
		clearInterval(sampler);
		try {
			if (child && child.close) child.close();
		} finally {
			// process.exit() still lets --cpu-prof write its profile.
			setImmediate(() => process.exit(0));
		}
	};

	const statsReply = () => {
		const rssNow = sample();
		const cpu = process.cpuUsage(cpuMark);
		const memory = memoryDetail ? process.memoryUsage() : undefined;
		return {
			peakRss,
			phasePeakRss,
			rssNow,
			...(memory ? { rssAtReady } : {}),
			phase: {
				wallMs: performance.now() - wallMark,
				eventLoopUtilization: performance.eventLoopUtilization(eluMark).utilization,
				userCpuMs: cpu.user / 1000,
				systemCpuMs: cpu.system / 1000,
			},
			...(memory ? { heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, samples } : {}),
			...(child && child.stats ? child.stats() : {}),
		};
	};

	process.on('message', (message) => {
		if (!message || typeof message !== 'object' || message.id === undefined) return;
		const reply = (result) => process.send({ id: message.id, ok: true, result });
		const refuse = (error) => process.send({ id: message.id, ok: false, error: errorText(error) });
		try {
			switch (message.cmd) {
				case 'stats':
					reply(statsReply());
					break;
				case 'reset-peak':
					phasePeakRss = sample();
					eluMark = performance.eventLoopUtilization();
					cpuMark = process.cpuUsage();
					wallMark = performance.now();
					reply({ phasePeakRss });
					break;
				case 'stop':
					reply({ stopping: true });
					stop();
					break;
				default: {
					const handler = child && child.commands && child.commands[message.cmd];
					if (!handler) {
						refuse(`unknown command ${message.cmd}`);
						break;
					}
					Promise.resolve()
						.then(() => handler(message.args || {}))
						.then(reply, refuse);
				}
			}
		} catch (error) {
			refuse(error);
		}
	});

	Promise.resolve()
		.then(() => setup({ fatal }))
		.then((ready) => {
			child = ready;
			rssAtReady = sample();
			process.send({ type: 'ready', port: ready.port, info: ready.info || {} });
		}, fatal);
}

/**
 * A child that serves a Koa app over HTTP on a free loopback port (reported in 'ready'); 'stats' carries
 * the memory detail (rssAtReady, heap, samples) bench/run.js prints.
 *
 * @param {object} options
 * @param {() => { app: import('koa'), info?: object, close?: () => void, stats?: () => object }} options.setup
 */
function runChild({ setup }) {
	runIpcChild({
		memoryDetail: true,
		async setup({ fatal }) {
			const { app, info, close, stats } = await setup();
			const server = http.createServer(app.callback());
			server.keepAliveTimeout = 65_000;
			server.on('error', fatal);
			await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
			return {
				port: server.address().port,
				info,
				stats,
				close() {
					server.close();
					if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
					if (close) close();
				},
			};
		},
	});
}

/** p-quantile (0..1) of an ascending array, nearest rank. */
function quantile(sorted, p) {
	if (sorted.length === 0) return NaN;
	const rank = Math.ceil(p * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

module.exports = { runIpcChild, runChild, quantile };
