'use strict';

/**
 * BENCH_WHATIF=<comma list>: experiments applied to the gateway child from the outside, to measure what a
 * change in server/ would buy before anyone makes it. They are NOT the gateway's behaviour; run.js prints
 * a warning whenever one is active. Without BENCH_WHATIF nothing here runs.
 *
 *   sync-normal    PRAGMA synchronous = NORMAL (WAL: commits stop fsyncing; a power loss can lose the last
 *                  transactions, a process crash cannot)
 *   period-cache   periodKeys() computed once per zone and local day instead of with luxon on every send
 *
 * For the webhook fan-out benchmark (bench/fanout.js):
 *   lean-http      the delivery worker posts with node:http directly (the same keep-alive agents, headers,
 *                  timeout and answer handling) instead of through axios
 */

const path = require('node:path');

const KNOWN = ['sync-normal', 'period-cache', 'lean-http'];

function parse(raw) {
  const list = (raw || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of list) {
    if (!KNOWN.includes(item)) throw new Error(`BENCH_WHATIF: unknown experiment "${item}" (known: ${KNOWN.join(', ')})`);
  }
  return list;
}

/** Applies the experiments; call after `new Gateway()` and before the first request. */
function apply(gateway, list, distDir) {
  if (list.includes('sync-normal')) gateway.db.pragma('synchronous = NORMAL');
  // DeliveryWorker keeps `client` and `deps` private in TypeScript; at run time they are plain properties.
  if (list.includes('lean-http')) leanHttp(gateway.deliveries);
  if (list.includes('period-cache')) {
    // service.js calls `(0, time_1.periodKeys)(…)` through the module's exports object, so replacing the
    // export takes effect without touching the file.
    const time = require(path.join(distDir, 'accounts', 'time.js'));
    const original = time.periodKeys;
    const cache = new Map();
    time.periodKeys = (nowMs, zone) => {
      let entry = cache.get(zone);
      if (!entry || nowMs < entry.dayStart || nowMs >= entry.dayEnd) {
        const keys = original(nowMs, zone);
        const dayEnd = nowMs + keys.msUntilDayEnd;
        entry = {
          day: keys.day,
          month: keys.month,
          dayStart: nowMs, // conservative: only reuse forwards in time
          dayEnd,
          monthEnd: nowMs + keys.msUntilMonthEnd,
        };
        cache.set(zone, entry);
      }
      return {
        day: entry.day,
        month: entry.month,
        msUntilDayEnd: entry.dayEnd - nowMs,
        msUntilMonthEnd: entry.monthEnd - nowMs,
      };
    };
  }
}

/** Replaces the worker's axios `client.post` with a plain node:http request answering the same shape. */
function leanHttp(worker) {
  const http = require('node:http');
  const https = require('node:https');
  const { timeoutMs, concurrency } = worker.deps.options;
  // The agents the worker made for axios (keep-alive, maxSockets = concurrency, the destination guard's lookup).
  const agents = {
    'http:': worker.client.defaults.httpAgent || new http.Agent({ keepAlive: true, maxSockets: concurrency }),
    'https:': worker.client.defaults.httpsAgent || new https.Agent({ keepAlive: true, maxSockets: concurrency }),
  };
  const targets = new Map();
  worker.client.post = (url, body, { headers }) =>
    new Promise((resolve, reject) => {
      let target = targets.get(url);
      if (!target) {
        const u = new URL(url);
        target = { module: u.protocol === 'https:' ? https : http, agent: agents[u.protocol], host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: `${u.pathname}${u.search}` };
        targets.set(url, target);
      }
      const req = target.module.request(
        {
          method: 'POST',
          host: target.host,
          port: target.port,
          path: target.path,
          agent: target.agent,
          headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res) => resolve({ status: res.statusCode, headers: res.headers, data: res }),
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout of ${timeoutMs}ms exceeded`), { code: 'ECONNABORTED' })));
      req.on('error', reject);
      req.end(body);
    });
}

module.exports = { parse, apply, KNOWN };
