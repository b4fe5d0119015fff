'use strict';

/**
 * BENCH_TIMING=1: wraps the parts of the send path of a running Gateway with timers, from the outside
 * (nothing in server/ is changed). Every part below is synchronous, so its time is event-loop time the
 * request holds; the database commits (and their fsync under synchronous=FULL) happen inside them.
 *
 *   authenticate          AccountService.authenticate (key hash, key + account lookups)
 *   guard:<name>          each of SendService.apiGuards, in order
 *   reserve tx            the transaction that takes quota/velocity and inserts the log entry
 *   finish tx             the transaction that marks the entry sent
 *     … body / begin+commit   the same transactions split into the statements and BEGIN IMMEDIATE + COMMIT
 *   provider.sendText     the sandbox provider
 *   handleHttp (wall)     from entry to the answer, including awaiting the body and queueing (not CPU)
 */

const { performance } = require('node:perf_hooks');

function instrument(gateway) {
  const parts = new Map();
  const order = [];
  const add = (name, ms) => {
    let part = parts.get(name);
    if (!part) {
      part = { calls: 0, totalMs: 0, maxMs: 0 };
      parts.set(name, part);
      order.push(name);
    }
    part.calls += 1;
    part.totalMs += ms;
    if (ms > part.maxMs) part.maxMs = ms;
  };
  const timeSync = (name, fn) =>
    function timed(...args) {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        add(name, performance.now() - t0);
      }
    };

  const sends = gateway.sends;
  gateway.accounts.authenticate = timeSync('authenticate', gateway.accounts.authenticate.bind(gateway.accounts));

  const guardNames = new Map();
  for (const key of Object.keys(sends)) {
    if (typeof sends[key] === 'function') guardNames.set(sends[key], key);
  }
  sends.apiGuards.forEach((guard, index) => {
    const name = guardNames.get(guard) || guard.name || `#${index}`;
    sends.apiGuards[index] = timeSync(`guard:${name}`, guard);
  });

  // SendService keeps its repository and reserve() private in TypeScript; at run time they are plain properties.
  const repo = sends.repo;
  let inReserve = false;
  const originalReserve = sends.reserve;
  sends.reserve = function reserve(...args) {
    inReserve = true;
    try {
      return originalReserve.apply(this, args);
    } finally {
      inReserve = false;
    }
  };
  const originalTransaction = repo.transaction.bind(repo);
  repo.transaction = (fn) => {
    const label = inReserve ? 'reserve tx' : 'finish tx';
    let bodyMs = 0;
    const t0 = performance.now();
    try {
      return originalTransaction(() => {
        const b0 = performance.now();
        try {
          return fn();
        } finally {
          bodyMs = performance.now() - b0;
        }
      });
    } finally {
      const total = performance.now() - t0;
      add(label, total);
      add(`  ${label} body`, bodyMs);
      add(`  ${label} begin+commit`, total - bodyMs);
    }
  };

  for (const provider of Object.values(gateway.providers)) {
    provider.sendText = timeSync('provider.sendText', provider.sendText.bind(provider));
  }

  const originalHandle = sends.handleHttp.bind(sends);
  sends.handleHttp = async (input) => {
    const t0 = performance.now();
    try {
      return await originalHandle(input);
    } finally {
      add('handleHttp (wall)', performance.now() - t0);
    }
  };

  return {
    report() {
      return order.map((name) => ({ name, ...parts.get(name) }));
    },
  };
}

/** A table of the parts; `wallMs` is the time the load ran, to show each part's share of one core. */
function format(report, wallMs) {
  const lines = ['Send-path timing inside the gateway (BENCH_TIMING=1; warm-up + measured run)'];
  lines.push(`  ${'part'.padEnd(34)} ${'calls'.padStart(8)} ${'mean µs'.padStart(9)} ${'max ms'.padStart(8)} ${'total ms'.padStart(10)} ${'% of wall'.padStart(9)}`);
  for (const part of report) {
    if (part.calls === 0) continue;
    const wall = part.name.includes('(wall)');
    lines.push(
      `  ${part.name.padEnd(34)} ${String(part.calls).padStart(8)} ${((part.totalMs / part.calls) * 1000).toFixed(1).padStart(9)} ` +
        `${part.maxMs.toFixed(2).padStart(8)} ${part.totalMs.toFixed(0).padStart(10)} ${(wall ? '-' : ((part.totalMs / wallMs) * 100).toFixed(1)).padStart(9)}`,
    );
  }
  return lines.join('\n');
}

module.exports = { instrument, format };
