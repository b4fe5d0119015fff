'use strict';

/**
 * What the benchmarks share: child servers driven over IPC (bench/child.js), temporary data folders, the
 * load generator (autocannon) and the report's formatting. bench/run.js, bench/send.js, bench/fanout.js and
 * bench/scale.js use it.
 */

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');

/** Node flags from the gateway's launcher shebang, so the benchmark runs the gateway as `npm start` does. */
function gatewayNodeFlags() {
  const launcher = path.join(__dirname, '..', 'server', 'bin', 'whatsapp-gateway.js');
  const shebang = fs.readFileSync(launcher, 'utf8').split('\n', 1)[0];
  return shebang.replace(/^#!\/usr\/bin\/env -S node\s*/, '').split(/\s+/).filter(Boolean);
}
const autocannon = require('autocannon');

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
          stopCannons(); // no point loading a server that is gone
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

// ---- load ------------------------------------------------------------------------------------------------

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
      { host: '127.0.0.1', port, method, path: urlPath, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent: false },
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
    phone: `+9665${String(n % 100_000_000).padStart(8, '0')}`,
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

/** autocannon's request list for POST `urlPath` with a fresh send body each time, noting the first non-2xx answer. */
function sendRequests(urlPath, headers, nextNumber) {
  return (firstError) => [
    {
      method: 'POST',
      path: urlPath,
      headers,
      setupRequest(req) {
        req.body = makeSendBody(nextNumber());
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
  cannon,
  stopCannons,
  request,
  makeSendBody,
  measure,
  sendRequests,
  pad,
  row,
  statusCodes,
  count2xx,
  verdict,
};
