'use strict';

/**
 * The gateway both benchmarks run (gateway-server.js for the send benchmark, fanout-gateway.js for the
 * fan-out one): the built Gateway (server/dist) on a real file database (WAL) in the directory given by
 * BENCH_DATA_DIR, one account and one connected sandbox instance.
 */

const fs = require('node:fs');
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'server', 'dist');

/**
 * @param {object} options
 * @param {object} [options.gatewayOptions] passed to `new Gateway()` besides `databasePath`
 * @param {object} options.account what `gateway.accounts.create()` takes
 * @param {object} options.instance what `gateway.instances.create()` takes, but `accountId`
 */
function setupGateway({ gatewayOptions = {}, account: accountInput, instance: instanceInput }) {
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
	gateway = new Gateway({ databasePath, ...gatewayOptions });

	const account = gateway.accounts.create(accountInput);
	const instance = gateway.instances.create({ accountId: account.id, ...instanceInput });

	const pragma = (name) => gateway.db.pragma(name, { simple: true });
	/** What the parent prints about the database. */
	const databaseInfo = () => ({
		journalMode: pragma('journal_mode'),
		synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][pragma('synchronous')] ?? String(pragma('synchronous')),
		sqlite: gateway.db.prepare('SELECT sqlite_version() AS v').get().v,
	});

	return { gateway, databasePath, account, instance, databaseInfo };
}

/** An account whose limits no benchmark load reaches (every guard still runs): as the CLI would set it up. */
const BENCH_ACCOUNT_INPUT = {
	name: 'bench',
	plan: 'scale',
	dailyLimit: 10_000_000,
	monthlyLimit: 10_000_000,
	instanceRatePerMinute: 10_000_000,
	recipientRatePerMinute: 1000,
};

/**
 * The n-th recipient: +9665 and eight digits, n scattered over the 100,000,000 numbers (multiplying by an
 * odd number not divisible by 5 is a one-to-one map modulo 10^8, so n below that gives a number of its
 * own). Real traffic does not go to consecutive numbers: sequential ones would add each send at the end
 * of the phone indexes instead of on a random page, and spare the database writes real recipients cost.
 */
function recipient(n) {
	return `+9665${String((n * 61_803_399) % 100_000_000).padStart(8, '0')}`;
}

module.exports = { setupGateway, recipient, BENCH_ACCOUNT_INPUT };
