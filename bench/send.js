'use strict';

/**
 * The send part of `npm run bench`: POST /api/send-message at 50 connections (unique recipient and text per
 * request), one target after the other, each with a warm-up that is not measured:
 *
 *   baseline    a bare Koa JSON route that parses the body (bench/baseline-server.js), a child process;
 *               measured first and again last, and the ratios are to the mean of the two runs: on a shared
 *               machine the row measured later was often the faster one, so neither side of the ratio gets
 *               the better minutes alone, and the gap between the two runs shows how noisy this one was
 *   serve       the real `whatsapp-gateway serve` process as users run it (bench/serve-process.js): default
 *               sandbox provider with its delivered/read reports, log level info to a file, delivery
 *               worker and housekeeping running. The targets are held against this row.
 *   in-process  Gateway.createApp() in a child with a silent logger and no status reports
 *               (bench/gateway-server.js), the figure earlier runs reported; BENCH_INPROCESS=0 skips it.
 */

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const serve = require('./serve-process');

const TARGETS = { ratio: 0.25, p99Ms: 25, rssMb: 150 };

/** One measured target: { name, result, stats, non2xx, firstError, afterProbe }. */
async function measureTarget(name, port, headers, urlPath, load, { beforeMeasured, counter }) {
	const probe = await h.request(port, { path: urlPath, headers, body: h.makeSendBody(counter.next()) });
	if (probe.status !== 200)
		throw new Error(`${name} refused the first request before any load: ${probe.status} ${probe.body}`);
	const run = await h.measure(
		name.padEnd(10),
		port,
		h.sendRequests(urlPath, headers, () => counter.next()),
		load,
		{ beforeMeasured },
	);
	const non2xx = (run.warmup ? run.warmup.non2xx : 0) + run.result.non2xx;
	let afterProbe;
	if (non2xx > 0) {
		afterProbe = await h
			.request(port, { path: urlPath, headers, body: h.makeSendBody(counter.next()) })
			.catch((error) => ({ status: 'no answer', body: error.message }));
	}
	return { name, result: run.result, warmup: run.warmup, firstError: run.firstError, non2xx, afterProbe };
}

function counterFrom(start) {
	let n = start;
	return { next: () => n++ };
}

async function baselineTarget(load, label = 'baseline') {
	const baseline = new h.ChildServer(label, path.join(__dirname, 'baseline-server.js'));
	const ready = await baseline.start();
	console.log(
		`${label}: bare Koa ${ready.info.koa}, POST / parses the JSON body and answers JSON, pid ${baseline.proc.pid}`,
	);
	const target = await measureTarget(label, ready.port, { 'Content-Type': 'application/json' }, '/', load, {
		counter: counterFrom(0),
		beforeMeasured: () => baseline.call('reset-peak'),
	});
	target.stats = await baseline.call('stats');
	await baseline.stop();
	target.crash = baseline.crash;
	return target;
}

/** The real serve process; `dataDir` may hold a seeded database (bench/scale.js) with `key` for its account. */
async function serveTarget(load, settings, { dataDir = h.makeTempDir(), key, label = 'serve', bin = serve.BIN } = {}) {
	const port = await serve.freePort();
	const env = serve.serveEnv(dataDir, port);
	key ??= serve.setUpWithCli(env, bin).key;
	const logFile = path.join(dataDir, 'gateway.log');
	const cpuProfile = settings.cpuProf
		? { dir: settings.profileDir, name: `serve-${Date.now()}.cpuprofile` }
		: undefined;
	if (cpuProfile) fs.mkdirSync(cpuProfile.dir, { recursive: true });
	const started = await serve.startServe({ dataDir, logFile, port, cpuProfile, nodeFlags: h.gatewayNodeFlags(), bin });
	const sampler = new serve.ProcessSampler(started.child.pid);
	console.log(
		`${label}: ${path.relative(process.cwd(), bin)} serve, pid ${started.child.pid}, answered GET / ${Math.round(started.startMs)} ms after spawn${cpuProfile ? ', with --cpu-prof' : ''}`,
	);
	console.log(`  data folder ${dataDir} on ${h.fileSystemOf(dataDir) || 'an unknown file system'}; log ${logFile}`);
	const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
	let target;
	try {
		target = await measureTarget(label, port, headers, '/api/send-message', load, {
			counter: counterFrom(1),
			beforeMeasured: () => sampler.mark(),
		});
		target.stats = sampler.stats();
	} finally {
		sampler.stop();
		target ??= {};
		target.exitCode = await serve.stopServe(started.child);
	}
	target.startMs = started.startMs;
	const databasePath = path.join(dataDir, 'gateway.db');
	target.messageLog = serve.messageLogCounts(databasePath);
	target.databaseBytes = serve.databaseSize(databasePath);
	const logText = fs.readFileSync(logFile, 'utf8');
	target.log = { bytes: Buffer.byteLength(logText), lines: logText.split('\n').length - 1 };
	if (cpuProfile) target.profile = path.join(cpuProfile.dir, cpuProfile.name);
	return target;
}

async function inProcessTarget(load, settings) {
	const execArgv = h.gatewayNodeFlags();
	const gateway = new h.ChildServer('in-process', path.join(__dirname, 'gateway-server.js'), {
		env: { BENCH_DATA_DIR: h.makeTempDir(), BENCH_TIMING: settings.timing ? '1' : '0' },
		execArgv,
	});
	const ready = await gateway.start();
	console.log(
		`in-process: Gateway.createApp() in a child, pid ${gateway.proc.pid}, logger "${ready.info.loggerLevel}", no status reports${settings.timing ? ', with send-path timers' : ''}`,
	);
	const headers = { Authorization: `Bearer ${ready.info.key}`, 'Content-Type': 'application/json' };
	const target = await measureTarget('in-process', ready.port, headers, '/api/send-message', load, {
		counter: counterFrom(1),
		beforeMeasured: () => gateway.call('reset-peak'),
	});
	target.stats = await gateway.call('stats', 30_000);
	await gateway.stop();
	target.crash = gateway.crash;
	return target;
}

function cpuShare(stats) {
	if (!stats || !stats.phase) return 'CPU -';
	const { wallMs, userCpuMs, systemCpuMs } = stats.phase;
	const pct = (ms) => ((ms / wallMs) * 100).toFixed(0);
	const loop =
		stats.phase.eventLoopUtilization === undefined
			? ''
			: `event loop ${(stats.phase.eventLoopUtilization * 100).toFixed(0)}% busy, `;
	return `${loop}CPU ${pct(userCpuMs + systemCpuMs)}% of one core (user ${pct(userCpuMs)}%, system ${pct(systemCpuMs)}%)`;
}

/** CPU time of the server per answered request: steadier than req/s on a machine other jobs share. */
function cpuPerRequest(t) {
	if (!t.stats || !t.stats.phase || t.result.requests.total === 0) return '-';
	const { userCpuMs, systemCpuMs } = t.stats.phase;
	return `${Math.round(((userCpuMs + systemCpuMs) * 1000) / t.result.requests.total)} µs`;
}

/** What the server handed to the kernel per answered request (database, WAL and log file together), '' when unknown. */
function ioPerRequest(t) {
	if (!t.stats || !t.stats.phase || !Number.isFinite(t.stats.phase.writtenBytes) || t.result.requests.total === 0)
		return '';
	const { writtenBytes, writeCalls, readCalls } = t.stats.phase;
	const per = (n) => n / t.result.requests.total;
	return `; per request ${(per(writtenBytes) / 1024).toFixed(1)} KB written in ${per(writeCalls).toFixed(2)} write calls, ${per(readCalls).toFixed(2)} read calls`;
}

/** The baseline's req/s the ratios are taken against: the mean of its runs. */
function referenceRate(baselines) {
	return baselines.reduce((sum, t) => sum + t.result.requests.average, 0) / baselines.length;
}

function report(targets, baselines, load) {
	const reference = referenceRate(baselines);
	console.log('');
	console.log(`Send results (measured ${load.durationS} s each; latency in ms, autocannon's 1 ms resolution)`);
	console.log(
		[
			h.pad('', 16),
			...[
				'req/s',
				'requests',
				'avg',
				'p50',
				'p90',
				'p99',
				'max',
				'non2xx',
				'errors',
				'timeouts',
				'peak RSS',
				'ratio',
			].map((t, i) => h.pad(t, [9, 9, 8, 6, 6, 6, 7, 7, 6, 8, 10, 6][i], true)),
		].join('  '),
	);
	for (const t of targets) {
		const ratio = (t.result.requests.average / reference).toFixed(3);
		console.log(`${h.row(t.name, t.result, t.stats && t.stats.peakRss)}  ${h.pad(ratio, 6, true)}`);
	}
	if (baselines.length > 1) {
		const rates = baselines.map((t) => t.result.requests.average);
		const gap = ((Math.max(...rates) - Math.min(...rates)) / Math.min(...rates)) * 100;
		console.log(
			`  ratio: to the mean of the two baseline runs, ${Math.round(reference)} req/s (measured first and last; they differ by ${gap.toFixed(0)}%, the noise of this run)`,
		);
	}
	if (load.rate) {
		console.log(
			`  latency at BENCH_RATE=${load.rate}: each connection sends its share of a second at the start of the second (bursts), so compare CPU per request, not latency`,
		);
	}
	console.log('');
	for (const t of targets) {
		console.log(
			`  ${h.pad(t.name, 13)} status codes ${h.statusCodes(t.result) || '-'}; during the measured run: ${cpuShare(t.stats)}, ${cpuPerRequest(t)} of CPU per request, peak RSS ${t.stats ? h.fmtMb(t.stats.phasePeakRss) : '-'}${ioPerRequest(t)}`,
		);
	}
	for (const serveRow of targets.filter((t) => t.name.startsWith('serve'))) {
		const log = Object.entries(serveRow.messageLog)
			.map(([status, n]) => `${status} ${n}`)
			.join(', ');
		console.log(
			`  ${serveRow.name}: message log after the run: ${log || 'empty'} (delivered and read come from the sandbox's status reports, 2 s apart)`,
		);
		console.log(
			`  ${serveRow.name}: log file ${serveRow.log.lines} lines, ${h.fmtMb(serveRow.log.bytes)}; database ${h.fmtMb(serveRow.databaseBytes)}; exit code after SIGTERM ${serveRow.exitCode}`,
		);
	}
	const inProcess = targets.find((t) => t.name === 'in-process');
	if (inProcess && inProcess.stats.timing) {
		console.log('');
		console.log(require('./timing').format(inProcess.stats.timing, (load.warmupS + load.durationS) * 1000));
	}
}

/** Prints the targets of the serve row; returns [{ name, figure, pass }]. */
function targetLines(baselines, serveRow) {
	const ratio = serveRow.result.requests.average / referenceRate(baselines);
	const peak = serveRow.stats ? serveRow.stats.peakRss : NaN;
	return [
		{
			name: `serve throughput / bare Koa >= ${TARGETS.ratio.toFixed(2)}`,
			figure: ratio.toFixed(3),
			pass: ratio >= TARGETS.ratio,
		},
		{
			name: `serve p99 latency < ${TARGETS.p99Ms} ms`,
			figure: `${serveRow.result.latency.p99} ms`,
			pass: serveRow.result.latency.p99 < TARGETS.p99Ms,
		},
		{ name: `serve peak RSS < ${TARGETS.rssMb} MB`, figure: h.fmtMb(peak), pass: peak < TARGETS.rssMb * h.MB },
	];
}

/**
 * @param {{ connections: number, warmupS: number, durationS: number, cpuProf: boolean, timing: boolean,
 *   inProcess: boolean, profileDir: string }} settings
 * @returns {Promise<{ failed: boolean, problems: string[] }>}
 */
async function run(settings) {
	const load = settings;
	const problems = [];
	const targets = [await baselineTarget(load)];
	console.log('');
	const serveRow = await serveTarget(load, settings);
	targets.push(serveRow);
	for (const bin of settings.compareBins || []) {
		// Another build of the gateway (a copy of an earlier commit, say), measured in the same run.
		console.log('');
		const label = `serve@${path.basename(path.resolve(bin, '..', '..', '..'))}`;
		targets.push(await serveTarget(load, { ...settings, cpuProf: false }, { label, bin }));
	}
	if (settings.inProcess) {
		console.log('');
		targets.push(await inProcessTarget(load, settings));
	}
	console.log('');
	targets.push(await baselineTarget(load, 'baseline again'));
	const baselines = targets.filter((t) => t.name.startsWith('baseline'));
	h.removeTempDirs();
	report(targets, baselines, load);
	console.log('');
	console.log('Send targets (the serve row)');
	for (const line of targetLines(baselines, serveRow))
		console.log(`  ${h.pad(line.name, 44)} ${h.pad(line.figure, 10, true)}   ${h.verdict(line.pass)}`);
	if (settings.cpuProf || settings.timing)
		console.log(`  (the CPU profiler and the send-path timers add overhead and memory)`);

	let failed = false;
	for (const t of targets) {
		if (t.crash) problems.push(`${t.name} child: ${t.crash}`);
		if (t.non2xx > 0) {
			problems.push(
				`${t.name} answered ${t.non2xx} non-2xx response(s) (warm-up + measured); first: ${t.firstError.status} ${t.firstError.body}`,
			);
			if (t.afterProbe) problems.push(`  one request after the run: ${t.afterProbe.status} ${t.afterProbe.body}`);
		}
		if (t.result.errors > 0 || t.result.timeouts > 0)
			problems.push(`${t.name}: ${t.result.errors} connection error(s), ${t.result.timeouts} timeout(s)`);
		if (t.exitCode !== undefined && t.exitCode !== 0)
			problems.push(`${t.name} exited with code ${t.exitCode} after SIGTERM`);
	}
	failed = problems.length > 0;
	const profile = serveRow.profile;
	if (profile) {
		if (fs.existsSync(profile)) console.log(`\n${require('./profile-summary').summarize(profile)}`);
		else problems.push(`no CPU profile was written to ${profile}`);
	}
	return { failed, problems };
}

module.exports = { run, serveTarget, TARGETS };
