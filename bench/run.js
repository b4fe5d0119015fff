'use strict';

/**
 * `npm run bench`: throughput and latency of POST /api/send-message against a bare Koa baseline.
 *
 * Both servers run in child processes (bench/baseline-server.js, bench/gateway-server.js) so that the load
 * generator (autocannon, in this process) does not share their event loop. Each target gets a warm-up
 * run that is not measured and then the measured run, one target after the other.
 *
 * Environment:
 *   BENCH_DURATION     measured seconds per target (default 10)
 *   BENCH_WARMUP       warm-up seconds per target (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_CPU_PROF=1   run the gateway child with --cpu-prof and print where its CPU time went
 *   BENCH_TIMING=1     time the parts of the send path inside the gateway child (bench/timing.js)
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
 * BENCH_CPU_PROF=1 profiles the fan-out gateway child too.
 *
 * Exit status: 0 when the run completed, the gateway answered only 2xx and every webhook delivery arrived
 * with a valid signature (a missed target is reported, not failed); 1 when something crashed, a connection
 * failed, any non-2xx answer was seen, a delivery is missing or failed, or a signature did not verify.
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

const TARGETS = { ratio: 0.3, p99Ms: 25, rssMb: 150 };

function envNumber(name, fallback, { min = 0, integer = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got "${raw}")`);
  }
  return value;
}

const DURATION_S = envNumber('BENCH_DURATION', 10, { min: 1 });
const WARMUP_S = envNumber('BENCH_WARMUP', 3, { min: 0 });
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50, { min: 1, integer: true });
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const TIMING = process.env.BENCH_TIMING === '1';
const PROFILE_DIR = path.join(__dirname, 'profiles');
const fanout = require('./fanout');
const FANOUT_MODE = process.env.BENCH_FANOUT || '1';
if (!['0', '1', 'only'].includes(FANOUT_MODE)) throw new Error(`BENCH_FANOUT must be 0, 1 or only (got "${FANOUT_MODE}")`);
const FANOUT_SETTINGS = fanout.settings({ envNumber, durationS: DURATION_S, warmupS: WARMUP_S });

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

/**
 * Warm-up (not measured) then the measured run against one target; `beforeMeasured` runs in between
 * (the children reset their RSS peak and CPU counters there). `firstError` keeps the first non-2xx answer.
 */
async function measure(name, port, makeRequests, { beforeMeasured } = {}) {
  const firstError = { status: undefined, body: undefined };
  const base = {
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    pipelining: 1,
    timeout: 10,
  };
  let warmup;
  if (WARMUP_S > 0) {
    process.stdout.write(`  ${name}: warm-up ${WARMUP_S} s ... `);
    warmup = await cannon({ ...base, duration: WARMUP_S, requests: makeRequests(firstError) });
    process.stdout.write(`${Math.round(warmup.requests.average)} req/s\n`);
  }
  if (beforeMeasured) await beforeMeasured();
  process.stdout.write(`  ${name}: measuring ${DURATION_S} s ... `);
  const result = await cannon({ ...base, duration: DURATION_S, requests: makeRequests(firstError) });
  process.stdout.write(`${Math.round(result.requests.average)} req/s\n`);
  return { warmup, result, firstError };
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

// ---- main ------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const cpus = os.cpus();
  const autocannonVersion = require('autocannon/package.json').version;
  console.log('WhatsApp Gateway benchmark: send pipeline and webhook fan-out');
  console.log(`  node ${process.version} on ${os.platform()} ${os.arch()}, ${cpus.length} CPU(s)${cpus[0] ? ` (${cpus[0].model.trim()})` : ''}`);
  console.log(`  load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (FANOUT_MODE !== 'only') {
    console.log(
      `  send: autocannon ${autocannonVersion} in this process, ${CONNECTIONS} connections, pipelining 1; ` +
        `${WARMUP_S} s warm-up (not measured) + ${DURATION_S} s measured per target`,
    );
  }
  if (FANOUT_MODE !== '0') console.log(`  fan-out: ${fanout.describeSettings(FANOUT_SETTINGS)}`);
  console.log('');

  let failed = false;
  const problems = [];
  if (FANOUT_MODE !== 'only' && (await sendBenchmark(problems))) failed = true;
  if (FANOUT_MODE !== '0') {
    const result = await fanout.run(FANOUT_SETTINGS, {
      ChildServer,
      makeTempDir,
      removeTempDirs,
      fileSystemOf,
      gatewayNodeFlags,
      cpuProf: CPU_PROF,
      profileDir: PROFILE_DIR,
    });
    if (result.failed) failed = true;
    problems.push(...result.problems);
  }

  console.log('');
  if (problems.length > 0) {
    console.log(failed ? 'FAILED' : 'Notes');
    for (const problem of problems) console.log(`  ${problem}`);
  }
  console.log(`Total time ${((Date.now() - started) / 1000).toFixed(1)} s; ${failed ? 'exit 1' : 'exit 0 (targets are reported, not enforced)'}`);
  return failed ? 1 : 0;
}

/** The send-pipeline benchmark (bare Koa baseline, then the gateway); returns true when the run failed. */
async function sendBenchmark(problems) {
  let failed = false;

  // -- baseline --
  const baseline = new ChildServer('baseline', path.join(__dirname, 'baseline-server.js'));
  const baselineReady = await baseline.start();
  console.log(`baseline: bare Koa ${baselineReady.info.koa}, POST / -> {"success":true}, pid ${baseline.proc.pid}`);
  let baseCounter = 0;
  const baselineRequests = (firstError) => [
    {
      method: 'POST',
      path: '/',
      headers: { 'Content-Type': 'application/json' },
      // Same shape and size of body as the gateway gets, though the baseline does not read it.
      setupRequest(req) {
        req.body = makeSendBody(baseCounter++);
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
  const probeBase = await request(baselineReady.port, { path: '/', headers: { 'Content-Type': 'application/json' }, body: makeSendBody(0) });
  if (probeBase.status !== 200) throw new Error(`baseline answered ${probeBase.status}: ${probeBase.body}`);
  const base = await measure('baseline', baselineReady.port, baselineRequests, {
    beforeMeasured: () => baseline.call('reset-peak'),
  });
  const baseStats = await baseline.call('stats');
  await baseline.stop();
  if (baseline.crash) problems.push(`baseline child: ${baseline.crash}`);

  // -- gateway --
  const dataDir = makeTempDir();
  // The same V8 flags the gateway starts with (the shebang of server/bin/whatsapp-gateway.js).
  const execArgv = gatewayNodeFlags();
  if (CPU_PROF) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=gateway-${Date.now()}.cpuprofile`);
  }
  const gateway = new ChildServer('gateway', path.join(__dirname, 'gateway-server.js'), {
    env: { BENCH_DATA_DIR: dataDir, BENCH_TIMING: TIMING ? '1' : '0' },
    execArgv,
  });
  const gatewayReady = await gateway.start();
  const { info } = gatewayReady;
  console.log('');
  console.log(`gateway: server/dist Gateway, pid ${gateway.proc.pid}${CPU_PROF ? ', with --cpu-prof' : ''}${TIMING ? ', with send-path timers' : ''}`);
  console.log(`  database ${info.databasePath}`);
  console.log(
    `  SQLite ${info.sqlite}, journal_mode=${info.journalMode}, synchronous=${info.synchronous}, on ${fileSystemOf(dataDir) || 'unknown file system'}`,
  );
  console.log(`  logger: the default one new Gateway() creates (pino, level "${info.loggerLevel}")`);
  console.log('  account plan scale, daily/monthly 10,000,000, instance 10,000,000/min, recipient 1000/min; unique phone and text per request');

  let counter = 1;
  const headers = { Authorization: `Bearer ${info.key}`, 'Content-Type': 'application/json' };
  const gatewayRequests = (firstError) => [
    {
      method: 'POST',
      path: '/api/send-message',
      headers,
      setupRequest(req) {
        req.body = makeSendBody(counter++);
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
  const probe = await request(gatewayReady.port, { path: '/api/send-message', headers, body: makeSendBody(counter++) });
  if (probe.status !== 200) {
    throw new Error(`gateway refused the first send before any load: ${probe.status} ${probe.body}`);
  }
  const gw = await measure('gateway ', gatewayReady.port, gatewayRequests, {
    beforeMeasured: () => gateway.call('reset-peak'),
  });
  const gwStats = await gateway.call('stats', 30_000);

  // If anything was refused, show the first answer seen during the run and one fresh request now.
  const gwNon2xx = (gw.warmup ? gw.warmup.non2xx : 0) + gw.result.non2xx;
  let afterProbe;
  if (gwNon2xx > 0) {
    try {
      afterProbe = await request(gatewayReady.port, { path: '/api/send-message', headers, body: makeSendBody(counter++) });
    } catch (error) {
      afterProbe = { status: 'no answer', body: error.message };
    }
  }
  await gateway.stop();
  if (gateway.crash) problems.push(`gateway child: ${gateway.crash}`);
  removeTempDirs();

  // -- report --
  const b = base.result;
  const g = gw.result;
  const ratio = g.requests.average / b.requests.average;
  const rssPeak = gwStats.peakRss;

  console.log('');
  console.log(`Results (measured ${DURATION_S} s each; latency in ms, autocannon's 1 ms resolution, 2xx answers only)`);
  console.log(
    [
      pad('', 16),
      pad('req/s', 9, true),
      pad('requests', 9, true),
      pad('avg', 8, true),
      pad('p50', 6, true),
      pad('p90', 6, true),
      pad('p99', 6, true),
      pad('max', 7, true),
      pad('non2xx', 7, true),
      pad('errors', 6, true),
      pad('timeouts', 8, true),
      pad('peak RSS', 10, true),
    ].join('  '),
  );
  console.log(row('baseline (Koa)', b, baseStats.peakRss));
  console.log(row('gateway send', g, rssPeak));
  console.log('');
  console.log(`  status codes: baseline ${statusCodes(b) || '-'}; gateway ${statusCodes(g) || '-'}`);
  console.log(
    `  gateway RSS: peak ${fmtMb(rssPeak)} over the child's life (${gwStats.samples} samples every 100 ms), ` +
      `${fmtMb(gwStats.phasePeakRss)} during the measured run, ${fmtMb(gwStats.rssNow)} at the end ` +
      `(heap used ${fmtMb(gwStats.heapUsed)} of ${fmtMb(gwStats.heapTotal)}, external ${fmtMb(gwStats.external)})`,
  );
  console.log(`  RSS when ready (before load): gateway ${fmtMb(gwStats.rssAtReady)}, baseline ${fmtMb(baseStats.rssAtReady)}; baseline peak ${fmtMb(baseStats.peakRss)}`);
  for (const [name, stats] of [['baseline', baseStats], ['gateway ', gwStats]]) {
    const { wallMs, eventLoopUtilization, userCpuMs, systemCpuMs } = stats.phase;
    console.log(
      `  ${name} process during the measured run: event loop ${(eventLoopUtilization * 100).toFixed(0)}% busy, ` +
        `CPU ${(((userCpuMs + systemCpuMs) / wallMs) * 100).toFixed(0)}% of one core ` +
        `(user ${((userCpuMs / wallMs) * 100).toFixed(0)}%, system ${((systemCpuMs / wallMs) * 100).toFixed(0)}%)`,
    );
  }
  const log = gwStats.messageLog || {};
  const answered2xx = 1 + (gw.warmup ? count2xx(gw.warmup) : 0) + count2xx(g); // + the probe
  console.log(
    `  message log after the run: ${Object.entries(log).map(([status, n]) => `${status} ${n}`).join(', ') || 'empty'} ` +
      `(${answered2xx} 2xx answers received incl. warm-up and probe; requests cut off at the end of a run may still be logged)`,
  );
  if (gwStats.timing) {
    console.log('');
    console.log(require('./timing').format(gwStats.timing, (WARMUP_S + DURATION_S) * 1000));
  }

  console.log('');
  console.log('Targets');
  const ratioPass = ratio >= TARGETS.ratio;
  const p99Pass = g.latency.p99 < TARGETS.p99Ms;
  const rssPass = rssPeak < TARGETS.rssMb * MB;
  console.log(`  ${pad(`throughput ratio gateway/baseline >= ${TARGETS.ratio.toFixed(2)}`, 44)} ${pad(ratio.toFixed(3), 10, true)}   ${verdict(ratioPass)}`);
  console.log(`  ${pad(`gateway p99 latency < ${TARGETS.p99Ms} ms`, 44)} ${pad(`${g.latency.p99} ms`, 10, true)}   ${verdict(p99Pass)}`);
  console.log(`  ${pad(`gateway peak RSS < ${TARGETS.rssMb} MB`, 44)} ${pad(fmtMb(rssPeak), 10, true)}   ${verdict(rssPass)}`);
  if (!ratioPass || !p99Pass || !rssPass) {
    console.log('  (to see where the gateway spends its time: BENCH_TIMING=1 or BENCH_CPU_PROF=1 npm run bench)');
  }
  if (CPU_PROF || TIMING) console.log(`  (${[CPU_PROF && 'the CPU profiler', TIMING && 'the send-path timers'].filter(Boolean).join(' and ')} add overhead and memory)`);

  // -- what makes the run fail (as opposed to missing a target) --
  if (gwNon2xx > 0) {
    failed = true;
    problems.push(`gateway answered ${gwNon2xx} non-2xx response(s) (warm-up + measured)`);
    if (gw.firstError.status !== undefined) {
      problems.push(`  first non-2xx during the run: ${gw.firstError.status} ${gw.firstError.body}`);
    }
    if (afterProbe) problems.push(`  one request after the run: ${afterProbe.status} ${afterProbe.body}`);
  }
  const baseNon2xx = (base.warmup ? base.warmup.non2xx : 0) + b.non2xx;
  if (baseNon2xx > 0) {
    failed = true;
    problems.push(`baseline answered ${baseNon2xx} non-2xx response(s); first: ${base.firstError.status} ${base.firstError.body}`);
  }
  for (const [name, r] of [['baseline', b], ['gateway', g]]) {
    if (r.errors > 0 || r.timeouts > 0) {
      failed = true;
      problems.push(`${name}: ${r.errors} connection error(s), ${r.timeouts} timeout(s) during the measured run`);
    }
  }
  if (baseline.crash || gateway.crash) failed = true;

  if (CPU_PROF) {
    const files = fs
      .readdirSync(PROFILE_DIR)
      .filter((file) => file.startsWith('gateway-') && file.endsWith('.cpuprofile'))
      .map((file) => path.join(PROFILE_DIR, file))
      .sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
    if (files[0]) {
      console.log('');
      console.log(require('./profile-summary').summarize(files[0]));
    } else {
      problems.push(`no CPU profile was written to ${PROFILE_DIR}`);
    }
  }
  return failed;
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

function cleanup() {
  stopCannons();
  killAllChildren();
  removeTempDirs();
}

process.on('exit', () => {
  killAllChildren();
  removeTempDirs();
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
