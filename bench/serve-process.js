'use strict';

/**
 * The real `whatsapp-gateway serve` process, as the README tells users to run it (`npm start` runs the same
 * launcher): set up with the real CLI, started with its defaults (sandbox provider with its delivered/read
 * reports, log level info, JSON log lines, 90-day retention, hourly housekeeping, delivery worker), its
 * stdout and stderr appended to a log file. Only the port, the host and the data folder are set.
 *
 * Its memory and CPU are read from /proc (Linux), since it has no IPC channel: VmHWM is the kernel's own
 * peak RSS over the process's life; a 100 ms sampler keeps the peak of the measured phase.
 */

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'server', 'bin', 'whatsapp-gateway.js');
const SAMPLE_INTERVAL_MS = 100;

/** Account limits high enough that no quota or velocity guard refuses the benchmark's load (every guard still runs). */
const BENCH_ACCOUNT = [
	'--plan',
	'scale',
	'--daily-limit',
	'10000000',
	'--monthly-limit',
	'10000000',
	'--instance-rate',
	'10000000',
	'--recipient-rate',
	'1000',
];

function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** The environment `serve` gets: the caller's, minus any GATEWAY_* setting (the defaults apply), plus the data folder and port. */
function serveEnv(dataDir, port) {
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GATEWAY_')));
	return { ...env, GATEWAY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };
}

/** The real CLI, as an operator runs it; the --json answer parsed. */
function cli(env, bin, ...args) {
	return JSON.parse(execFileSync(process.execPath, [bin, ...args, '--json'], { env, encoding: 'utf8' }));
}

/** An account with the benchmark's limits, a sandbox instance `bench-line` and an API key, made with the CLI. */
function setUpWithCli(env, bin = BIN) {
	const account = cli(env, bin, 'accounts', 'create', '--name', 'bench', ...BENCH_ACCOUNT);
	cli(
		env,
		bin,
		'instances',
		'create',
		'--account',
		String(account.id),
		'--name',
		'bench-line',
		'--provider',
		'sandbox',
	);
	const { key } = cli(env, bin, 'keys', 'create', '--account', String(account.id));
	return { accountId: account.id, key };
}

function clockTicksPerSecond() {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
	} catch {
		return 100;
	}
}
const TICKS = clockTicksPerSecond();

/**
 * The process's own I/O counters (bytes handed to write(2) and friends, and the calls): unlike CPU time they do
 * not move with the machine's load, so the storage work a change saves shows in them run after run.
 */
function readIo(pid) {
	try {
		const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
		const field = (name) => Number((new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io) || [])[1]);
		return { writtenBytes: field('wchar'), writeCalls: field('syscw'), readCalls: field('syscr') };
	} catch {
		return {};
	}
}

/** RSS and peak RSS (bytes) and CPU time (ms) of a process, with its I/O counters, from /proc; undefined where /proc is missing. */
function readProc(pid) {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (field) => Number((new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1]) * 1024;
		// Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const toMs = (ticks) => (Number(ticks) * 1000) / TICKS;
		return {
			rss: kb('VmRSS'),
			peakRss: kb('VmHWM'),
			userCpuMs: toMs(fields[11]),
			systemCpuMs: toMs(fields[12]),
			...readIo(pid),
		};
	} catch {
		return undefined;
	}
}

/**
 * Starts `serve` and resolves once `GET /` answers 200: `{ child, port, startMs }`, startMs from spawn to
 * that first answer. `cpuProfile` ({ dir, name }) runs it under --cpu-prof (node with the launcher's own
 * `nodeFlags`); it writes the profile when it exits. `bin` is another build's launcher (BENCH_COMPARE_BIN);
 * `extraEnv` sets more of its variables (for a diagnosis by hand; the benchmarks leave the defaults).
 */
async function startServe({ dataDir, logFile, port, cpuProfile, nodeFlags = [], bin = BIN, extraEnv = {} }) {
	const env = { ...serveEnv(dataDir, port), ...extraEnv };
	const log = fs.openSync(logFile, 'a');
	const started = performance.now();
	const profiling = cpuProfile
		? ['--cpu-prof', `--cpu-prof-dir=${cpuProfile.dir}`, `--cpu-prof-name=${cpuProfile.name}`]
		: [];
	const child = cpuProfile
		? spawn(process.execPath, [...nodeFlags, ...profiling, bin, 'serve'], { env, stdio: ['ignore', log, log] })
		: spawn(bin, ['serve'], { env, stdio: ['ignore', log, log] });
	fs.closeSync(log);
	let exit;
	child.once('exit', (code, signal) => (exit = { code, signal }));
	for (;;) {
		if (exit)
			throw new Error(`serve exited before it answered (code ${exit.code}, signal ${exit.signal}); see ${logFile}`);
		try {
			const answer = await fetch(`http://127.0.0.1:${port}/`);
			if (answer.ok) return { child, port, startMs: performance.now() - started, exited: () => exit };
		} catch {
			// not listening yet
		}
		if (performance.now() - started > 60_000) {
			child.kill('SIGKILL');
			throw new Error(`serve did not answer GET / within 60 s; see ${logFile}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

/** SIGTERM, as systemd stops it; resolves with its exit code once it has exited (SIGKILL after `timeoutMs`). */
function stopServe(child, timeoutMs = 30_000) {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
	return new Promise((resolve) => {
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.once('exit', (code) => {
			clearTimeout(timer);
			resolve(code);
		});
		child.kill('SIGTERM');
	});
}

/** Samples a process's RSS every 100 ms; `mark()` starts a phase (its peak RSS and CPU are counted from there). */
class ProcessSampler {
	constructor(pid) {
		this.pid = pid;
		this.mark();
		this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
		this.timer.unref();
	}

	sample() {
		const now = readProc(this.pid);
		if (now && now.rss > this.phasePeakRss) this.phasePeakRss = now.rss;
		if (now) this.last = now;
		return now;
	}

	mark() {
		this.phasePeakRss = 0;
		this.wallMark = performance.now();
		this.cpuMark = this.sample();
	}

	/**
	 * { peakRss (life), phasePeakRss, rssNow, phase: { wallMs, userCpuMs, systemCpuMs, writtenBytes, writeCalls,
	 * readCalls } }, or undefined without /proc (the I/O counters are NaN where /proc/<pid>/io is not readable).
	 */
	stats() {
		const now = this.sample() || this.last;
		if (!now || !this.cpuMark) return undefined;
		return {
			peakRss: now.peakRss,
			phasePeakRss: this.phasePeakRss,
			rssNow: now.rss,
			phase: {
				wallMs: performance.now() - this.wallMark,
				userCpuMs: now.userCpuMs - this.cpuMark.userCpuMs,
				systemCpuMs: now.systemCpuMs - this.cpuMark.systemCpuMs,
				writtenBytes: now.writtenBytes - this.cpuMark.writtenBytes,
				writeCalls: now.writeCalls - this.cpuMark.writeCalls,
				readCalls: now.readCalls - this.cpuMark.readCalls,
			},
		};
	}

	stop() {
		clearInterval(this.timer);
	}
}

/** The gateway database's message log by status, read after the process stopped (better-sqlite3 from the server's install). */
function messageLogCounts(databasePath) {
	const Database = require(require.resolve('better-sqlite3', { paths: [path.join(ROOT, 'server')] }));
	const db = new Database(databasePath, { readonly: true });
	try {
		const rows = db.prepare('SELECT status, COUNT(*) AS n FROM message_log GROUP BY status').all();
		return Object.fromEntries(rows.map((r) => [r.status, r.n]));
	} finally {
		db.close();
	}
}

/** Bytes of the database and its WAL and shared-memory files. */
function databaseSize(databasePath) {
	return ['', '-wal', '-shm'].reduce((sum, suffix) => {
		try {
			return sum + fs.statSync(`${databasePath}${suffix}`).size;
		} catch {
			return sum;
		}
	}, 0);
}

module.exports = {
	BIN,
	BENCH_ACCOUNT,
	freePort,
	serveEnv,
	cli,
	setUpWithCli,
	startServe,
	stopServe,
	ProcessSampler,
	messageLogCounts,
	databaseSize,
};
