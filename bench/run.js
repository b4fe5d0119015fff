'use strict';

/**
 * `npm run bench`: the send pipeline against a bare Koa baseline, then the webhook fan-out.
 *
 * Every server runs in a child process so that the load generator (autocannon, in this process) does not
 * share its event loop. The send part (bench/send.js) measures, one after the other, a bare Koa JSON
 * route that parses the body, the real `whatsapp-gateway serve` process as users run it, the
 * in-process Gateway.createApp() of earlier runs, and the bare route again (the ratios are to the mean of
 * its two runs); the targets are held against the serve process.
 *
 * Environment:
 *   BENCH_DURATION     measured seconds per target (default 10)
 *   BENCH_WARMUP       warm-up seconds per target (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_INPROCESS=0  skip the in-process row
 *   BENCH_COMPARE_BIN  other builds' server/bin/whatsapp-gateway.js, comma-separated (copies of earlier commits,
 *                      built): each measured as a row of its own right after serve, for before/after figures
 *                      in one run (named after the folder that holds server/)
 *   BENCH_IDEMPOTENCY_KEYS=1  every send with its own Idempotency-Key (the n8n Send node sends one by default)
 *   BENCH_RATE         send at this many requests/s in all instead of as fast as answered (CPU per request
 *                      of builds compared without saturating the machine; autocannon sends each second's
 *                      share in a burst at the start of the second, so the latency it prints is the bursts')
 *   BENCH_CPU_PROF=1   run the serve process (and the fan-out gateway) with --cpu-prof and print where the CPU time went
 *   BENCH_TIMING=1     time the parts of the send path inside the in-process gateway child (bench/timing.js)
 *
 * Then the webhook fan-out benchmark (bench/fanout.js: the outbox and delivery worker of a gateway child,
 * a signature-checking receiver in another child), with its own knobs:
 *   BENCH_FANOUT=0|1|only           skip it / run it after the send benchmark (default) / run only it
 *   BENCH_FANOUT_DELIVERIES         deliveries in the measured burst (default 20,000, scaled down by
 *                                   BENCH_DURATION/10 when BENCH_DURATION < 10, at least 2,000)
 *   BENCH_FANOUT_WEBHOOKS           subscriptions each event fans out to (default 4)
 *   BENCH_FANOUT_CONCURRENCY        the delivery worker's concurrency (default 64)
 *   BENCH_FANOUT_RATE               deliveries/s of the paced latency runs (default 2,000; 0 skips them):
 *                                   2 s at a tenth of it, then min(BENCH_DURATION, 5) s at it
 *
 * The data-scale benchmark (a seeded database against an empty one, start time) is `npm run bench:scale`
 * (bench/scale.js); BENCH_SCALE=1 runs it here too, after the others.
 *
 * Exit status: 0 when the run completed, the servers answered only 2xx and every webhook delivery arrived
 * with a valid signature (a missed target is reported, not failed); 1 when something crashed, a connection
 * failed, any non-2xx answer was seen, a delivery is missing or failed, or a signature did not verify.
 */

const os = require('node:os');
const path = require('node:path');
const h = require('./harness');
const fanout = require('./fanout');
const send = require('./send');

const DURATION_S = h.envNumber('BENCH_DURATION', 10, { min: 1 });
const WARMUP_S = h.envNumber('BENCH_WARMUP', 3, { min: 0 });
const CONNECTIONS = h.envNumber('BENCH_CONNECTIONS', 50, { min: 1, integer: true });
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const TIMING = process.env.BENCH_TIMING === '1';
const PROFILE_DIR = path.join(__dirname, 'profiles');
const FANOUT_MODE = process.env.BENCH_FANOUT || '1';
if (!['0', '1', 'only'].includes(FANOUT_MODE))
	throw new Error(`BENCH_FANOUT must be 0, 1 or only (got "${FANOUT_MODE}")`);
const FANOUT_SETTINGS = fanout.settings({ envNumber: h.envNumber, durationS: DURATION_S, warmupS: WARMUP_S });
const SCALE = process.env.BENCH_SCALE === '1';

async function main() {
	const started = Date.now();
	const cpus = os.cpus();
	console.log('WhatsApp Gateway benchmark: send pipeline and webhook fan-out');
	console.log(
		`  node ${process.version} on ${os.platform()} ${os.arch()}, ${cpus.length} CPU(s)${cpus[0] ? ` (${cpus[0].model.trim()})` : ''}`,
	);
	console.log(
		`  load average at start: ${os
			.loadavg()
			.map((x) => x.toFixed(2))
			.join(' ')}`,
	);
	if (FANOUT_MODE !== 'only') {
		console.log(
			`  send: autocannon ${require('autocannon/package.json').version} in this process, ${CONNECTIONS} connections, pipelining 1; ` +
				`${WARMUP_S} s warm-up (not measured) + ${DURATION_S} s measured per target`,
		);
	}
	if (FANOUT_MODE !== '0') console.log(`  fan-out: ${fanout.describeSettings(FANOUT_SETTINGS)}`);
	console.log('');

	let failed = false;
	const problems = [];
	const take = (result) => {
		if (result.failed) failed = true;
		problems.push(...result.problems);
	};
	if (FANOUT_MODE !== 'only') {
		take(
			await send.run({
				connections: CONNECTIONS,
				warmupS: WARMUP_S,
				durationS: DURATION_S,
				cpuProf: CPU_PROF,
				timing: TIMING,
				inProcess: process.env.BENCH_INPROCESS !== '0',
				compareBins: (process.env.BENCH_COMPARE_BIN || '').split(',').filter(Boolean),
				rate: h.envNumber('BENCH_RATE', 0, { min: 0 }),
				profileDir: PROFILE_DIR,
			}),
		);
	}
	if (FANOUT_MODE !== '0') {
		take(
			await fanout.run(FANOUT_SETTINGS, {
				ChildServer: h.ChildServer,
				makeTempDir: h.makeTempDir,
				removeTempDirs: h.removeTempDirs,
				fileSystemOf: h.fileSystemOf,
				gatewayNodeFlags: h.gatewayNodeFlags,
				cpuProf: CPU_PROF,
				profileDir: PROFILE_DIR,
			}),
		);
	}
	if (SCALE) {
		console.log('');
		take(await require('./scale').run({ connections: CONNECTIONS, warmupS: WARMUP_S, durationS: DURATION_S }));
	}

	console.log('');
	if (problems.length > 0) {
		console.log(failed ? 'FAILED' : 'Notes');
		for (const problem of problems) console.log(`  ${problem}`);
	}
	console.log(
		`Total time ${((Date.now() - started) / 1000).toFixed(1)} s; ${failed ? 'exit 1' : 'exit 0 (targets are reported, not enforced)'}`,
	);
	return failed ? 1 : 0;
}

function cleanup() {
	h.stopCannons();
	h.killAllChildren();
	h.removeTempDirs();
}

process.on('exit', () => {
	h.killAllChildren();
	h.removeTempDirs();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(signal, () => {
		console.error(`\n${signal}: stopping`);
		cleanup();
		process.exit(130);
	});
}

function finish(code) {
	cleanup();
	process.exitCode = code;
	// Everything is closed by now; should a handle linger anyway, do not hang the caller.
	setTimeout(() => process.exit(code), 2000).unref();
}

main().then(finish, (error) => {
	console.error('');
	console.error(`bench crashed: ${error && error.stack ? error.stack : error}`);
	finish(1);
});
