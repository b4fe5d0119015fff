'use strict';

/**
 * The gateway for `npm run bench`: the built Gateway (server/dist), a real file database (WAL) in the
 * directory given by BENCH_DATA_DIR, one account / instance / API key set up so that every guard of
 * POST /api/send-message runs but none refuses. The logger is the default one `new Gateway` makes
 * (pino at level "silent").
 *
 * BENCH_WHATIF=… applies the experiments of bench/whatif.js (off by default).
 * BENCH_TIMING=1 wraps the send path's parts with timers (bench/timing.js); the totals come back in 'stats'.
 */

const fs = require('node:fs');
const path = require('node:path');
const { runChild } = require('./child');

const DIST = path.join(__dirname, '..', 'server', 'dist', 'server', 'src');

runChild({
  setup() {
    const dataDir = process.env.BENCH_DATA_DIR;
    if (!dataDir) throw new Error('BENCH_DATA_DIR is not set');
    const { Gateway } = require(path.join(DIST, 'gateway.js'));

    let gateway;
    // The parent removes the directory too; this covers a parent that was killed outright.
    process.on('exit', () => {
      try {
        if (gateway) gateway.close();
      } catch {
        // closing is best effort here
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const databasePath = path.join(dataDir, 'gateway.db');
    gateway = new Gateway({ databasePath }); // no logger passed: the default (silent) one
    const account = gateway.accounts.create({
      name: 'bench',
      plan: 'scale',
      dailyLimit: 10_000_000,
      monthlyLimit: 10_000_000,
      instanceRatePerMinute: 10_000_000,
      recipientRatePerMinute: 1000,
    });
    const instance = gateway.instances.create({
      accountId: account.id,
      name: 'bench-line',
      provider: 'sandbox',
      connectionState: 'connected',
    });
    const { key } = gateway.accounts.createKey(account.id);

    // Experiments (bench/whatif.js); none unless BENCH_WHATIF is set, and run.js says so loudly.
    const whatIf = require('./whatif');
    const experiments = whatIf.parse(process.env.BENCH_WHATIF);
    whatIf.apply(gateway, experiments, DIST);

    const timing = process.env.BENCH_TIMING === '1' ? require('./timing').instrument(gateway) : undefined;

    const app = gateway.createApp();
    const pragma = (name) => gateway.db.pragma(name, { simple: true });
    return {
      app,
      info: {
        key,
        instanceName: instance.name,
        databasePath,
        loggerLevel: gateway.logger.level,
        journalMode: pragma('journal_mode'),
        synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][pragma('synchronous')] ?? String(pragma('synchronous')),
        sqlite: gateway.db.prepare('SELECT sqlite_version() AS v').get().v,
        timing: Boolean(timing),
        experiments,
      },
      extraStats() {
        const rows = gateway.db
          .prepare('SELECT status, COUNT(*) AS n FROM message_log GROUP BY status')
          .all();
        return {
          messageLog: Object.fromEntries(rows.map((row) => [row.status, row.n])),
          ...(timing ? { timing: timing.report() } : {}),
        };
      },
      close() {
        gateway.close();
      },
    };
  },
});
