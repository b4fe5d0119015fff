'use strict';

/**
 * `npm run bench:scale` (or BENCH_SCALE=1 npm run bench, after the others): does the gateway stay as fast
 * when its database holds a busy gateway's history?
 *
 *   1. the real serve process on an empty data folder (bench/send.js's serve row)
 *   2. a data folder seeded by bench/seed.js (1,000,000 logged messages with their status history,
 *      100,000 suppressions, 10,000 inbound conversations, spread over the last 89 days); its size on disk
 *   3. the start time on it: spawn -> the first answer to GET /, BENCH_SCALE_STARTS times (default 3), and
 *      the median counts (each start runs the crash recovery and the first housekeeping before answering)
 *   4. the serve process on it, with the same load as on the empty one
 *   5. retention: the gateway opened on it with its clock two days on, so the oldest day is past 90 days:
 *      how long that housekeeping took, the rows it removed and the pages it freed for new rows to reuse
 *
 * Targets (printed with PASS/MISS): send throughput and p99 on the seeded database within 1.5x of the empty
 * one, start under 3 s. The load knobs are bench/run.js's (BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS);
 * BENCH_SCALE_MESSAGES, BENCH_SCALE_SUPPRESSIONS and BENCH_SCALE_CONVERSATIONS change the seed (the CI smoke
 * run uses a small one).
 */

const path = require('node:path');
const h = require('./harness');
const serve = require('./serve-process');
const { seed } = require('./seed');
const { serveTarget } = require('./send');

const TARGETS = { slowdown: 1.5, startMs: 3000 };
const DAY_MS = 86_400_000;
const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function measureStarts(dataDir, count) {
	const times = [];
	for (let i = 0; i < count; i += 1) {
		const port = await serve.freePort();
		const started = await serve.startServe({ dataDir, logFile: path.join(dataDir, 'gateway.log'), port });
		times.push(started.startMs);
		await serve.stopServe(started.child);
	}
	return times.sort((a, b) => a - b);
}

/** Housekeeping as the running gateway does it hourly, with the clock two days past the seed. */
function retentionCheck(dataDir, now) {
	const { Gateway } = require(path.join(__dirname, '..', 'server', 'dist', 'gateway.js'));
	const gateway = new Gateway({
		databasePath: path.join(dataDir, 'gateway.db'),
		clock: { now: () => now + 2 * DAY_MS },
	});
	try {
		const count = (table) => gateway.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n;
		const tables = ['message_log', 'message_status_history', 'inbound_messages'];
		const before = tables.map(count);
		const started = performance.now();
		gateway.housekeeping(90);
		const ms = performance.now() - started;
		const removed = Object.fromEntries(tables.map((table, i) => [table, before[i] - count(table)]));
		return {
			ms,
			removed,
			freePages: gateway.db.pragma('freelist_count', { simple: true }),
			pageSize: gateway.db.pragma('page_size', { simple: true }),
		};
	} finally {
		gateway.close();
	}
}

function figures(t) {
	return (
		`${fmt(t.result.requests.average)} req/s, p50 ${t.result.latency.p50} ms, p99 ${t.result.latency.p99} ms, ` +
		`peak RSS ${t.stats ? h.fmtMb(t.stats.peakRss) : '-'}, non-2xx ${t.non2xx}, started in ${fmt(t.startMs)} ms`
	);
}

/**
 * @param {{ connections: number, warmupS: number, durationS: number }} load
 * @returns {Promise<{ failed: boolean, problems: string[] }>}
 */
async function run(load) {
	const counts = {
		messages: h.envNumber('BENCH_SCALE_MESSAGES', 1_000_000, { min: 1, integer: true }),
		suppressions: h.envNumber('BENCH_SCALE_SUPPRESSIONS', 100_000, { min: 0, integer: true }),
		conversations: h.envNumber('BENCH_SCALE_CONVERSATIONS', 10_000, { min: 0, integer: true }),
	};
	const starts = h.envNumber('BENCH_SCALE_STARTS', 3, { min: 1, integer: true });
	const problems = [];
	console.log('Data scale: the serve process on an empty database and on a seeded one');
	console.log(
		`  seed: ${fmt(counts.messages)} logged messages, ${fmt(counts.suppressions)} suppressions, ${fmt(counts.conversations)} inbound conversations`,
	);
	console.log('');

	const settings = { cpuProf: false };
	const empty = await serveTarget(load, settings, { label: 'serve' });
	console.log('');

	const dataDir = h.makeTempDir();
	const now = Date.now();
	const seeded = seed({ dataDir, ...counts, now });
	const databasePath = path.join(dataDir, 'gateway.db');
	const seededBytes = serve.databaseSize(databasePath);
	const rows = Object.entries(seeded.rows)
		.map(([table, n]) => `${table} ${fmt(n)}`)
		.join(', ');
	console.log(`seeded in ${seeded.seconds.toFixed(1)} s: ${rows}; database ${h.fmtMb(seededBytes)} on disk`);
	const startTimes = await measureStarts(dataDir, starts);
	const startMs = startTimes[Math.floor((startTimes.length - 1) / 2)];
	console.log(`start on the seeded database (spawn -> GET / answers): ${startTimes.map(fmt).join(', ')} ms`);
	console.log('');
	const full = await serveTarget(load, settings, { dataDir, key: seeded.key, label: 'serve seeded' });
	const retention = retentionCheck(dataDir, now);
	h.removeTempDirs();

	console.log('');
	console.log(`Data-scale results (measured ${load.durationS} s each, ${load.connections} connections)`);
	console.log(`  empty database:  ${figures(empty)}`);
	console.log(`  seeded database: ${figures(full)}`);
	console.log(
		`  database size: ${h.fmtMb(seededBytes)} seeded (${fmt(seededBytes / counts.messages)} bytes per logged message, everything included), ${h.fmtMb(full.databaseBytes)} after the run`,
	);
	const removed = Object.entries(retention.removed)
		.map(([table, n]) => `${table} ${fmt(n)}`)
		.join(', ');
	console.log(
		`  retention (90 days, clock two days on): housekeeping took ${fmt(retention.ms)} ms and removed ${removed}; ` +
			`${fmt(retention.freePages)} free pages (${h.fmtMb(retention.freePages * retention.pageSize)}) for new rows to reuse`,
	);

	const throughputSlowdown = empty.result.requests.average / full.result.requests.average;
	const p99Slowdown = full.result.latency.p99 / Math.max(1, empty.result.latency.p99);
	const lines = [
		{
			name: `seeded throughput: empty / seeded <= ${TARGETS.slowdown}`,
			figure: `${throughputSlowdown.toFixed(2)}x`,
			pass: throughputSlowdown <= TARGETS.slowdown,
		},
		{
			name: `seeded p99: seeded / empty <= ${TARGETS.slowdown}`,
			figure: `${p99Slowdown.toFixed(2)}x`,
			pass: p99Slowdown <= TARGETS.slowdown,
		},
		{
			name: `start on the seeded database < ${TARGETS.startMs / 1000} s`,
			figure: `${fmt(startMs)} ms`,
			pass: startMs < TARGETS.startMs,
		},
	];
	console.log('');
	console.log('Data-scale targets');
	for (const line of lines)
		console.log(`  ${h.pad(line.name, 44)} ${h.pad(line.figure, 10, true)}   ${h.verdict(line.pass)}`);

	for (const t of [empty, full]) {
		if (t.non2xx > 0)
			problems.push(
				`data scale, ${t.name}: ${t.non2xx} non-2xx answer(s); first: ${t.firstError.status} ${t.firstError.body}`,
			);
		if (t.result.errors > 0 || t.result.timeouts > 0)
			problems.push(`data scale, ${t.name}: ${t.result.errors} connection error(s), ${t.result.timeouts} timeout(s)`);
		if (t.exitCode !== 0) problems.push(`data scale, ${t.name} exited with code ${t.exitCode} after SIGTERM`);
	}
	return { failed: problems.length > 0, problems };
}

module.exports = { run };

if (require.main === module) {
	const load = {
		connections: h.envNumber('BENCH_CONNECTIONS', 50, { min: 1, integer: true }),
		warmupS: h.envNumber('BENCH_WARMUP', 3, { min: 0 }),
		durationS: h.envNumber('BENCH_DURATION', 10, { min: 1 }),
	};
	const cleanup = () => {
		h.stopCannons();
		h.removeTempDirs();
	};
	process.on('SIGINT', () => {
		cleanup();
		process.exit(130);
	});
	run(load).then(
		(result) => {
			cleanup();
			if (result.problems.length > 0) console.log(`\nFAILED\n${result.problems.map((p) => `  ${p}`).join('\n')}`);
			process.exitCode = result.failed ? 1 : 0;
		},
		(error) => {
			cleanup();
			console.error(`bench:scale crashed: ${error && error.stack ? error.stack : error}`);
			process.exitCode = 1;
		},
	);
}
