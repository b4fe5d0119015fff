'use strict';

/**
 * The webhook fan-out part of `npm run bench` (called by bench/run.js after the send benchmark).
 *
 * Two child processes: the gateway (bench/fanout-gateway.js: the built Gateway on a WAL file database with
 * its delivery worker started) and a customer receiver (bench/fanout-receiver.js: node:http, checks every
 * signature, answers 200). The gateway subscribes K webhooks to message.received, one path of the receiver
 * each, then produces inbound messages in its own process; every message writes the
 * event and K outbox deliveries, which the worker then posts, signed, to the receiver.
 *
 * Phases, each waited for until the receiver has every delivery and the worker has recorded them:
 *   warm-up  a small burst, not measured (skipped with BENCH_WARMUP=0)
 *   burst    BENCH_FANOUT_DELIVERIES deliveries, the messages produced as fast as the process can: the
 *            deliveries/s end to end (first event recorded -> last delivery acknowledged by the receiver)
 *            is the figure held against the target. Its latencies are mostly time spent queued.
 *   paced    messages produced steadily, 2 s at a tenth of BENCH_FANOUT_RATE deliveries/s (the pipeline's own
 *            latency) then min(BENCH_DURATION, 5) s at BENCH_FANOUT_RATE (default 2,000/s, so the
 *            latency shows whether the worker keeps up with it or builds a queue).
 */

const fs = require('node:fs');
const path = require('node:path');

/** The burst's target (docs/benchmarks.md); the paced runs go at 2,000/s. */
const TARGET_DELIVERIES_PER_S = 3000;
const PACED_RATE = 2000;
const POLL_MS = 50;
const STALL_MS = 15_000;

function settings({ envNumber, durationS, warmupS }) {
	const scaled = Math.max(2000, Math.round(20_000 * Math.min(1, durationS / 10)));
	const deliveries = envNumber('BENCH_FANOUT_DELIVERIES', scaled, { min: 1, integer: true });
	const webhooks = envNumber('BENCH_FANOUT_WEBHOOKS', 4, { min: 1, integer: true });
	return {
		deliveries,
		webhooks,
		concurrency: envNumber('BENCH_FANOUT_CONCURRENCY', 64, { min: 1, integer: true }),
		rate: envNumber('BENCH_FANOUT_RATE', PACED_RATE, { min: 0 }),
		pacedSeconds: Math.min(durationS, 5),
		warmupDeliveries: warmupS > 0 ? Math.min(2000, Math.ceil(deliveries / 4)) : 0,
		batch: 20,
	};
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const eventsFor = (s, deliveries) => Math.max(1, Math.ceil(deliveries / s.webhooks));

function describeSettings(s) {
	const parts = [
		`${s.webhooks} subscription(s) per event, worker concurrency ${s.concurrency}`,
		`${s.warmupDeliveries > 0 ? `warm-up ${fmt(eventsFor(s, s.warmupDeliveries) * s.webhooks)} + ` : ''}burst of ${fmt(eventsFor(s, s.deliveries) * s.webhooks)} deliveries`,
	];
	if (s.rate > 0)
		parts.push(`then paced: 2 s at ${fmt(s.rate / 10)} and ${s.pacedSeconds} s at ${fmt(s.rate)} deliveries/s`);
	return `${parts.join('; ')} (BENCH_FANOUT_* knobs, see bench/run.js)`;
}

function pad(text, width, right = false) {
	const s = String(text);
	return right ? s.padStart(width) : s.padEnd(width);
}

const ms = (v) => (Number.isFinite(v) ? String(Math.round(v)) : '-');

/** Polls the receiver until it has `expected` distinct deliveries; gives up when nothing arrives for STALL_MS. */
async function waitForDeliveries(receiver, expected, capMs) {
	const started = Date.now();
	let last = -1;
	let lastChange = Date.now();
	for (;;) {
		const progress = await receiver.call('progress');
		if (progress.distinct >= expected) return { complete: true, progress };
		if (progress.distinct !== last) {
			last = progress.distinct;
			lastChange = Date.now();
		}
		if (Date.now() - lastChange > STALL_MS || Date.now() - started > capMs) return { complete: false, progress };
		await new Promise((resolve) => setTimeout(resolve, POLL_MS));
	}
}

function cpuLine(name, stats) {
	const { wallMs, eventLoopUtilization, userCpuMs, systemCpuMs } = stats.phase;
	return (
		`  ${name}: event loop ${(eventLoopUtilization * 100).toFixed(0)}% busy, CPU ${(((userCpuMs + systemCpuMs) / wallMs) * 100).toFixed(0)}% of one core ` +
		`(user ${((userCpuMs / wallMs) * 100).toFixed(0)}%, system ${((systemCpuMs / wallMs) * 100).toFixed(0)}%), peak RSS ${(stats.phasePeakRss / 1024 / 1024).toFixed(1)} MB`
	);
}

/**
 * @param {ReturnType<typeof settings>} s
 * @param {{ ChildServer: any, makeTempDir: () => string, removeTempDirs: () => void, fileSystemOf: (p: string) => string | undefined,
 *   gatewayNodeFlags: () => string[], cpuProf: boolean, profileDir: string }} deps
 * @returns {Promise<{ failed: boolean, problems: string[] }>}
 */
async function run(s, deps) {
	const problems = [];
	let failed = false;
	const fail = (text) => {
		failed = true;
		problems.push(`fan-out: ${text}`);
	};

	console.log('');
	console.log('Webhook fan-out');
	const receiver = new deps.ChildServer('fan-out receiver', path.join(__dirname, 'fanout-receiver.js'));
	const dataDir = deps.makeTempDir();
	const execArgv = deps.gatewayNodeFlags();
	const profileName = `fanout-gateway-${Date.now()}.cpuprofile`;
	if (deps.cpuProf) {
		fs.mkdirSync(deps.profileDir, { recursive: true });
		execArgv.push('--cpu-prof', `--cpu-prof-dir=${deps.profileDir}`, `--cpu-prof-name=${profileName}`);
	}
	const gateway = new deps.ChildServer('fan-out gateway', path.join(__dirname, 'fanout-gateway.js'), {
		env: { BENCH_DATA_DIR: dataDir, BENCH_FANOUT_CONCURRENCY: String(s.concurrency) },
		execArgv,
	});

	const results = [];
	let burstStats;
	let burstReceiverStats;
	let outbox;
	try {
		const receiverReady = await receiver.start();
		const { info } = await gateway.start();
		console.log(
			`gateway: server/dist Gateway, delivery worker started, concurrency ${info.concurrency}, pid ${gateway.proc.pid}${deps.cpuProf ? ', with --cpu-prof' : ''}`,
		);
		console.log(`  database ${info.databasePath}`);
		console.log(
			`  SQLite ${info.sqlite}, journal_mode=${info.journalMode}, synchronous=${info.synchronous}, on ${deps.fileSystemOf(dataDir) || 'unknown file system'}`,
		);
		console.log(
			`receiver: node:http on 127.0.0.1:${receiverReady.port}, pid ${receiver.proc.pid}; checks every signature, answers 200`,
		);

		const urls = Array.from({ length: s.webhooks }, (_, k) => `http://127.0.0.1:${receiverReady.port}/hook/${k}`);
		const subscriptions = await gateway.call('subscribe', 30_000, { urls });
		await receiver.call('configure', 10_000, {
			secrets: Object.fromEntries(subscriptions.map((sub) => [new URL(sub.url).pathname, sub.secret])),
		});
		console.log(
			`  ${subscriptions.length} subscription(s) to message.received (/hook/0 … /hook/${subscriptions.length - 1}); each inbound message fans out to ${subscriptions.length} deliveries`,
		);

		let expectedTotal = 0;
		const phase = async (name, deliveries, rate) => {
			const events = eventsFor(s, deliveries);
			const expected = events * s.webhooks;
			const eventRate = rate > 0 ? rate / s.webhooks : 0;
			process.stdout.write(
				`  ${name}: ${fmt(events)} inbound messages -> ${fmt(expected)} deliveries${rate > 0 ? `, produced at ${fmt(eventRate)} messages/s` : ', produced as fast as possible'} ... `,
			);
			await receiver.call('reset');
			await Promise.all([gateway.call('reset-peak'), receiver.call('reset-peak')]);
			const generateTimeout = rate > 0 ? (events / eventRate) * 1000 + 60_000 : 120_000;
			const generated = await gateway.call('generate', generateTimeout, { events, rate: eventRate, batch: s.batch });
			const waited = await waitForDeliveries(receiver, expected, Math.max(60_000, expected * 10));
			const report = await receiver.call('report');
			const gatewayStats = await gateway.call('stats');
			const receiverStats = await receiver.call('stats');
			expectedTotal += expected;
			outbox = await gateway.call('idle', 60_000);
			const wallMs = report.lastAckAt - generated.firstRecordedAt;
			const result = {
				name,
				events,
				expected,
				rate,
				generated,
				report,
				wallMs,
				perSecond: (report.distinct / wallMs) * 1000,
			};
			process.stdout.write(
				waited.complete
					? `${fmt(result.perSecond)} deliveries/s\n`
					: `INCOMPLETE (${fmt(report.distinct)} of ${fmt(expected)})\n`,
			);

			if (!waited.complete)
				fail(`${name}: ${fmt(expected - report.distinct)} of ${fmt(expected)} deliveries never reached the receiver`);
			if (report.invalid > 0)
				fail(
					`${name}: ${report.invalid} delivery(ies) with an invalid signature; first: ${JSON.stringify(report.firstInvalid)}`,
				);
			if (report.unknownPath > 0) fail(`${name}: ${report.unknownPath} request(s) to a path no subscription uses`);
			if (report.badBody > 0) fail(`${name}: ${report.badBody} request(s) whose body has no readable timestamp`);
			if (report.duplicates > 0)
				problems.push(
					`fan-out ${name}: ${report.duplicates} duplicate delivery(ies) (at least once allows it, but nothing failed here)`,
				);
			const { succeeded = 0, pending = 0, failed: failedRows = 0 } = outbox.deliveries;
			if (succeeded !== expectedTotal || pending > 0 || failedRows > 0) {
				fail(
					`${name}: the outbox holds ${JSON.stringify(outbox.deliveries)} after the phase, expected ${expectedTotal} succeeded${outbox.lastError ? `; last error: ${outbox.lastError}` : ''}`,
				);
			}
			if (name !== 'warm-up') results.push(result);
			return { result, gatewayStats, receiverStats, complete: waited.complete };
		};

		let ok = true;
		if (s.warmupDeliveries > 0) ok = (await phase('warm-up', s.warmupDeliveries, 0)).complete;
		if (ok) {
			const burst = await phase('burst', s.deliveries, 0);
			burstStats = burst.gatewayStats;
			burstReceiverStats = burst.receiverStats;
			ok = burst.complete;
		}
		if (ok && s.rate > 0) {
			// A light load first (a tenth of the rate, 2 s): the pipeline's own latency, no queue to speak of.
			const light = s.rate / 10;
			ok = (await phase(`paced ${fmt(light)}/s`, Math.max(s.webhooks, Math.round(light * 2)), light)).complete;
			if (ok) await phase(`paced ${fmt(s.rate)}/s`, Math.round(s.rate * s.pacedSeconds), s.rate);
		}
	} catch (error) {
		fail(`crashed: ${error && error.stack ? error.stack : error}`);
	} finally {
		await gateway.stop();
		await receiver.stop();
		deps.removeTempDirs();
	}
	if (gateway.crash) fail(`gateway child: ${gateway.crash}`);
	if (receiver.crash) fail(`receiver child: ${receiver.crash}`);

	// -- report --
	if (results.length > 0) {
		console.log('');
		console.log('Fan-out results (end to end = first event recorded -> last delivery acknowledged by the receiver;');
		console.log("  latency = receipt at the receiver - the event's timestamp, ms, 1 ms resolution)");
		console.log(
			[
				pad('', 18),
				pad('messages', 9, true),
				pad('deliveries', 11, true),
				pad('wall s', 7, true),
				pad('deliv/s', 8, true),
				pad('p50', 6, true),
				pad('p90', 6, true),
				pad('p99', 6, true),
				pad('max', 6, true),
				pad('dups', 5, true),
				pad('invalid', 8, true),
			].join('  '),
		);
		for (const r of results) {
			const label = r.name;
			const l = r.report.latency;
			console.log(
				[
					pad(label, 18),
					pad(fmt(r.events), 9, true),
					pad(fmt(r.report.distinct), 11, true),
					pad((r.wallMs / 1000).toFixed(2), 7, true),
					pad(fmt(r.perSecond), 8, true),
					pad(ms(l.p50), 6, true),
					pad(ms(l.p90), 6, true),
					pad(ms(l.p99), 6, true),
					pad(ms(l.max), 6, true),
					pad(r.report.duplicates, 5, true),
					pad(r.report.invalid, 8, true),
				].join('  '),
			);
		}
		console.log('');
		const burst = results.find((r) => r.rate === 0);
		if (burst) {
			const genMs = burst.generated.lastRecordedAt - burst.generated.firstRecordedAt;
			console.log(
				`  burst: the ${fmt(burst.events)} messages were recorded in ${(genMs / 1000).toFixed(2)} s (${fmt((burst.events / Math.max(genMs, 1)) * 1000)} messages/s, ` +
					`${fmt((burst.expected / Math.max(genMs, 1)) * 1000)} deliveries/s into the outbox) while the worker was already delivering; ` +
					`the last delivery came ${((burst.report.lastAckAt - burst.generated.lastRecordedAt) / 1000).toFixed(2)} s after the last message`,
			);
		}
		if (burstStats) {
			console.log(cpuLine('gateway child during the burst', burstStats));
			if (burst) {
				const cpuUs = ((burstStats.phase.userCpuMs + burstStats.phase.systemCpuMs) * 1000) / burst.report.distinct;
				console.log(
					`  gateway CPU per delivery in the burst: ${cpuUs.toFixed(0)} µs, producing the messages included ` +
						`(${fmt(1e6 / cpuUs)} deliveries/s if the gateway had one core to itself; less than 100% of one core above means other processes took it)`,
				);
			}
		}
		if (burstReceiverStats) console.log(cpuLine('receiver child during the burst', burstReceiverStats));
		if (outbox)
			console.log(
				`  outbox after the run: ${Object.entries(outbox.deliveries)
					.map(([status, n]) => `${status} ${fmt(n)}`)
					.join(', ')}; ${fmt(outbox.events)} events (warm-up included)`,
			);

		console.log('');
		console.log('Fan-out targets');
		if (burst) {
			const pass = burst.perSecond >= TARGET_DELIVERIES_PER_S;
			console.log(
				`  ${pad(`webhook deliveries/s end to end >= ${fmt(TARGET_DELIVERIES_PER_S)}`, 44)} ${pad(fmt(burst.perSecond), 10, true)}   ${pass ? 'PASS' : 'MISS'}`,
			);
			if (!pass && !deps.cpuProf)
				console.log(
					'  (to see where the fan-out gateway spends its time: BENCH_FANOUT=only BENCH_CPU_PROF=1 npm run bench)',
				);
		}
	}

	if (deps.cpuProf) {
		const file = path.join(deps.profileDir, profileName);
		if (fs.existsSync(file)) {
			console.log('');
			console.log(require('./profile-summary').summarize(file));
		} else {
			problems.push(`fan-out: no CPU profile was written to ${file}`);
		}
	}
	return { failed, problems };
}

module.exports = { settings, describeSettings, run, TARGET_DELIVERIES_PER_S };
