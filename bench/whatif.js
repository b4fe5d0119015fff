'use strict';

/**
 * BENCH_WHATIF=<comma list>: experiments applied to the gateway child from the outside, to measure what a
 * change in server/ would buy before anyone makes it. They are NOT the gateway's behaviour; run.js prints
 * a warning whenever one is active. Without BENCH_WHATIF nothing here runs.
 *
 *   sync-normal    PRAGMA synchronous = NORMAL (WAL: commits stop fsyncing; a power loss can lose the last
 *                  transactions, a process crash cannot)
 *   period-cache   periodKeys() computed once per zone and local day instead of with luxon on every send
 */

const path = require('node:path');

const KNOWN = ['sync-normal', 'period-cache'];

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

module.exports = { parse, apply, KNOWN };
