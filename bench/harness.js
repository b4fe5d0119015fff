'use strict';

/**
 * What the benchmarks share: child servers driven over IPC (bench/child.js), temporary data folders, the
 * load generator (bench/load.js, re-exported here) and the report's formatting. bench/run.js, bench/send.js,
 * bench/fanout.js and bench/scale.js use it.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');

/** Node flags from the gateway's launcher shebang, so the benchmark runs the gateway as `npm start` does. */
function gatewayNodeFlags() {
	const launcher = path.join(__dirname, '..', 'server', 'bin', 'whatsapp-gateway.js');
	const shebang = fs.readFileSync(launcher, 'utf8').split('\n', 1)[0];
	return shebang
		.replace(/^#!\/usr\/bin\/env -S node\s*/, '')
		.split(/\s+/)
		.filter(Boolean);
}
const load = require('./load');

function envNumber(name, fallback, { min = 0, integer = false } = {}) {
	const raw = process.env[name];
	if (raw === undefined || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
		throw new Error(`${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got "${raw}")`);
	}
	return value;
}

const MB = 1024 * 1024;
const fmtMb = (bytes) => `${(bytes / MB).toFixed(1)} MB`; // MB = 2^20 bytes throughout

// ---- child processes ----------------------------------------------------------------------------------

const liveChildren = new Set();

/** A server in a child process, driven over IPC (protocol in bench/child.js). */
class ChildServer {
	constructor(name, script, { env = {}, execArgv = [] } = {}) {
		this.name = name;
		this.script = script;
		this.env = env;
		this.execArgv = execArgv;
		this.proc = undefined;
		this.exited = false;
		this.expectedExit = false;
		this.crash = undefined;
		this.pending = new Map();
		this.nextId = 1;
	}

	start(timeoutMs = 30_000) {
		return new Promise((resolve, reject) => {
			const proc = fork(this.script, [], {
				env: { ...process.env, ...this.env },
				execArgv: this.execArgv,
				stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			});
			this.proc = proc;
			liveChildren.add(this);
			let ready = false;
			const timer = setTimeout(() => {
				reject(new Error(`${this.name}: not ready after ${timeoutMs} ms`));
				this.kill();
			}, timeoutMs);

			proc.on('message', (message) => {
				if (message && message.type === 'ready') {
					ready = true;
					clearTimeout(timer);
					resolve({ port: message.port, info: message.info });
				} else if (message && message.type === 'fatal') {
					this.crash = message.error;
				} else if (message && message.id !== undefined && this.pending.has(message.id)) {
					const { resolve: done, reject: fail } = this.pending.get(message.id);
					this.pending.delete(message.id);
					if (message.ok) done(message.result);
					else fail(new Error(`${this.name}: ${message.error}`));
				}
			});
			proc.on('error', (error) => {
				this.crash = this.crash || String(error);
				if (!ready) {
					clearTimeout(timer);
					reject(error);
				}
			});
			proc.on('exit', (code, signal) => {
				this.exited = true;
				liveChildren.delete(this);
				if (!this.expectedExit) {
					this.crash = this.crash || `exited unexpectedly (code ${code}, signal ${signal})`;
					load.stopCannons(); // no point loading a server that is gone
				}
				const error = new Error(`${this.name}: ${this.crash || `exited (code ${code}, signal ${signal})`}`);
				for (const { reject: fail } of this.pending.values()) fail(error);
				this.pending.clear();
				if (!ready) {
					clearTimeout(timer);
					reject(error);
				}
				if (this.onExit) this.onExit();
			});
		});
	}

	call(cmd, timeoutMs = 10_000, args = undefined) {
		if (this.exited) return Promise.reject(new Error(`${this.name}: ${this.crash || 'not running'}`));
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(`${this.name}: no answer to "${cmd}" within ${timeoutMs} ms`));
			}, timeoutMs);
			this.pending.set(id, {
				resolve: (value) => {
					clearTimeout(timer);
					resolve(value);
				},
				reject: (error) => {
					clearTimeout(timer);
					reject(error);
				},
			});
			this.proc.send(args === undefined ? { id, cmd } : { id, cmd, args });
		});
	}

	/** Asks the child to exit (so --cpu-prof can write its profile); kills it if it does not within timeoutMs. */
	async stop(timeoutMs = 10_000) {
		if (!this.proc || this.exited) return;
		this.expectedExit = true;
		const exited = new Promise((resolve) => {
			this.onExit = resolve;
		});
		try {
			await this.call('stop', timeoutMs);
		} catch {
			// fall through to the kill below
		}
		const timer = setTimeout(() => this.kill(), timeoutMs);
		await exited;
		clearTimeout(timer);
	}

	kill() {
		if (this.proc && !this.exited) {
			this.expectedExit = true;
			try {
				this.proc.kill('SIGKILL');
			} catch {
				// already gone
			}
		}
	}
}

function killAllChildren() {
	for (const child of liveChildren) child.kill();
}

// ---- temp data -----------------------------------------------------------------------------------------

const tempDirs = new Set();

function makeTempDir() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wa-gateway-bench-'));
	tempDirs.add(dir);
	return dir;
}

function removeTempDirs() {
	for (const dir of tempDirs) {
		try {
			fs.rmSync(dir, { recursive: true, force: true });
		} catch (error) {
			console.error(`could not remove ${dir}: ${error.message}`);
		}
		tempDirs.delete(dir);
	}
}

/** The file system a path lives on, from /proc/mounts (Linux only; undefined elsewhere). */
function fileSystemOf(target) {
	try {
		const real = fs.realpathSync(target);
		let best;
		for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
			const [device, mountPoint, type] = line.split(' ');
			if (!mountPoint) continue;
			const mp = mountPoint.replace(/\\040/g, ' ');
			const inside = real === mp || real.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
			if (inside && (!best || mp.length > best.mp.length)) best = { mp, type, device };
		}
		return best ? `${best.type} (${best.device} on ${best.mp})` : undefined;
	} catch {
		return undefined;
	}
}

// ---- report ----------------------------------------------------------------------------------------------

function pad(text, width, right = false) {
	const s = String(text);
	return right ? s.padStart(width) : s.padEnd(width);
}

function row(label, r, rss) {
	return [
		pad(label, 16),
		pad(Math.round(r.requests.average), 9, true),
		pad(r.requests.total, 9, true),
		pad(r.latency.average.toFixed(2), 8, true),
		pad(r.latency.p50, 6, true),
		pad(r.latency.p90, 6, true),
		pad(r.latency.p99, 6, true),
		pad(r.latency.max, 7, true),
		pad(r.non2xx, 7, true),
		pad(r.errors, 6, true),
		pad(r.timeouts, 8, true),
		pad(rss === undefined ? '-' : fmtMb(rss), 10, true),
	].join('  ');
}

function statusCodes(r) {
	return Object.entries(r.statusCodeStats || {})
		.map(([code, { count }]) => `${code}×${count}`)
		.join(' ');
}

function count2xx(r) {
	return Object.entries(r.statusCodeStats || {})
		.filter(([code]) => code >= '200' && code < '300')
		.reduce((sum, [, { count }]) => sum + Number(count), 0);
}

function verdict(pass) {
	return pass ? 'PASS' : 'MISS';
}

module.exports = {
	MB,
	fmtMb,
	envNumber,
	gatewayNodeFlags,
	ChildServer,
	killAllChildren,
	makeTempDir,
	removeTempDirs,
	fileSystemOf,
	...load,
	pad,
	row,
	statusCodes,
	count2xx,
	verdict,
};
