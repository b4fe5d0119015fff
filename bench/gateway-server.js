'use strict';

/**
 * The gateway for `npm run bench`: the built Gateway (server/dist), a real file database (WAL) in the
 * directory given by BENCH_DATA_DIR, one account / instance / API key set up so that every guard of
 * POST /api/send-message runs but none refuses (bench/gateway-setup.js). The logger is the default one
 * `new Gateway` makes (pino at level "silent").
 *
 * BENCH_TIMING=1 wraps the send path's parts with timers (bench/timing.js); the totals come back in 'stats'.
 */

const { runChild } = require('./child');
const { BENCH_ACCOUNT_INPUT, setupGateway } = require('./gateway-setup');

runChild({
	setup() {
		// No logger passed: the default (silent) one.
		const { gateway, databasePath, account, instance, databaseInfo } = setupGateway({
			account: BENCH_ACCOUNT_INPUT,
			instance: { name: 'bench-line', provider: 'sandbox', connectionState: 'connected' },
		});
		const { key } = gateway.accounts.createKey(account.id);

		const timing = process.env.BENCH_TIMING === '1' ? require('./timing').instrument(gateway) : undefined;

		const app = gateway.createApp();
		return {
			app,
			info: {
				key,
				instanceName: instance.name,
				databasePath,
				loggerLevel: gateway.logger.level,
				...databaseInfo(),
				timing: Boolean(timing),
			},
			stats() {
				const rows = gateway.db.prepare('SELECT status, COUNT(*) AS n FROM message_log GROUP BY status').all();
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
