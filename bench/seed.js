'use strict';

/**
 * Fills a data folder with the history of a busy gateway, for the data-scale benchmark (bench/scale.js):
 * by default 1,000,000 logged messages (with their status history), 100,000 suppressions and 10,000
 * inbound conversations, all on the benchmark's account and its sandbox instance `bench-line`.
 *
 * The database is opened the way the gateway opens it (`new Gateway()` from server/dist: the real
 * migrations, WAL, the same pragmas); the account, instance and API key are made by the gateway's own
 * services; the history goes in with prepared bulk INSERTs, 50,000 rows per transaction, the history
 * tables' indexes dropped first and built again from their own SQL afterwards. Messages are
 * spread evenly over the last `days` days (default 89, so that 90-day retention keeps them all) and are
 * numbered 1…N in the account's log as the gateway would have numbered them.
 *
 *   node bench/seed.js <data folder> [messages] [suppressions] [conversations]
 *   require('./seed').seed({ dataDir, messages, suppressions, conversations })
 *     -> { key, accountId, instanceId, rows, seconds }
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { BENCH_ACCOUNT_INPUT, recipient } = require('./gateway-setup');

const DIST = path.join(__dirname, '..', 'server', 'dist');
const DAY_MS = 86_400_000;
const BATCH = 50_000;
/** How a month of sends ends up: most read, some only delivered or sent, some refused by a guard. */
const OUTCOMES = [
	...Array(12).fill(['read', ['sent', 'delivered', 'read']]),
	...Array(4).fill(['delivered', ['sent', 'delivered']]),
	...Array(2).fill(['sent', ['sent']]),
	['blocked', ['blocked']],
	['failed', ['failed']],
];

const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

/** Runs `insertOne(i)` for i in [0, count) in transactions of BATCH rows. */
function bulk(db, count, insertOne) {
	const chunk = db.transaction((from, to) => {
		for (let i = from; i < to; i += 1) insertOne(i);
	});
	for (let from = 0; from < count; from += BATCH) chunk.immediate(from, Math.min(count, from + BATCH));
}

function seed({
	dataDir,
	messages = 1_000_000,
	suppressions = 100_000,
	conversations = 10_000,
	days = 89,
	now = Date.now(),
}) {
	const started = performance.now();
	const { Gateway } = require(path.join(DIST, 'gateway.js'));
	fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	const gateway = new Gateway({ databasePath: path.join(dataDir, 'gateway.db') });
	try {
		const account = gateway.accounts.create(BENCH_ACCOUNT_INPUT);
		const instance = gateway.instances.create({
			accountId: account.id,
			name: 'bench-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const { key, info } = gateway.accounts.createKey(account.id);
		const apiKeyId = info.id;
		const db = gateway.db;
		// Loading only: no fsync and a large page cache while the history goes in (the gateway's own settings
		// come back when it next opens the database).
		db.pragma('synchronous = OFF');
		db.pragma('cache_size = -131072');
		// The usual bulk load: the history tables' indexes go, the rows go in, the same indexes (their SQL as
		// the migrations wrote it) are built again in one sorted pass each.
		const indexes = db
			.prepare(
				"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('message_log', 'message_status_history', 'inbound_messages', 'suppressions')",
			)
			.all();
		for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
		const rows = {
			message_log: messages,
			message_status_history: 0,
			suppressions,
			conversation_windows: conversations,
			inbound_messages: 0,
		};

		const insertLog = db.prepare(
			`INSERT INTO message_log (account_id, account_seq, api_key_id, source, instance_id, instance_ref, phone, message_purpose,
         message_type, message_text, content_hash, status, error_code, http_status, risk_score, provider_message_id, created_at, updated_at)
       VALUES (?, ?, ?, 'api', ?, 'bench-line', ?, 'transactional', 'text', ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
		);
		const insertHistory = db.prepare(
			'INSERT INTO message_status_history (log_id, status, detail, created_at) VALUES (?, ?, ?, ?)',
		);
		const span = days * DAY_MS;
		const first = now - span;
		bulk(db, messages, (i) => {
			const at = first + Math.floor((i / messages) * span);
			const [status, history] = OUTCOMES[i % OUTCOMES.length];
			const text = `Your order #${i} has been shipped.`;
			const refused = status === 'blocked' || status === 'failed';
			const errorCode =
				status === 'blocked' ? 'recipient_suppressed' : status === 'failed' ? 'gateway_send_failed' : null;
			const id = Number(
				insertLog.run(
					account.id,
					i + 1,
					apiKeyId,
					instance.id,
					recipient(i),
					text,
					sha256(text),
					status,
					errorCode,
					status === 'blocked' ? 403 : status === 'failed' ? 502 : 200,
					refused ? null : `sandbox.${crypto.randomUUID()}`,
					at,
					at + 4000,
				).lastInsertRowid,
			);
			history.forEach((step, n) => insertHistory.run(id, step, refused ? errorCode : null, at + n * 2000));
			rows.message_status_history += history.length;
		});
		// What the gateway's own counters would say (the quota guard reads them at start).
		db.prepare(
			'INSERT INTO message_log_sequences (account_id, last_seq) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET last_seq = excluded.last_seq',
		).run(account.id, messages);
		db.prepare(
			`INSERT INTO usage_counters (account_id, period, used)
       SELECT account_id, period, COUNT(*) FROM (
         SELECT account_id, 'd:' || date(created_at / 1000, 'unixepoch') AS period FROM message_log WHERE status <> 'blocked' AND status <> 'failed'
         UNION ALL
         SELECT account_id, 'm:' || strftime('%Y-%m', created_at / 1000, 'unixepoch') FROM message_log WHERE status <> 'blocked' AND status <> 'failed')
       GROUP BY account_id, period`,
		).run();

		// Suppressed recipients (opt-outs and operator entries); the benchmark's own recipients start above them.
		const insertSuppression = db.prepare(
			'INSERT INTO suppressions (account_id, phone, reason, source, created_at) VALUES (?, ?, ?, ?, ?)',
		);
		bulk(db, suppressions, (i) => {
			const keyword = i % 3 !== 0;
			insertSuppression.run(
				account.id,
				`+9715${String(i).padStart(8, '0')}`,
				keyword ? 'recipient_requested_stop' : 'operator',
				keyword ? 'keyword' : 'manual',
				first + (i % days) * DAY_MS,
			);
		});

		// Conversations: a few inbound messages each, the last one setting the window.
		const insertInbound = db.prepare(
			`INSERT INTO inbound_messages (account_id, instance_id, provider_message_id, from_phone, message_type, message_text, received_at, created_at)
       VALUES (?, ?, ?, ?, 'text', ?, ?, ?)`,
		);
		const insertWindow = db.prepare(
			'INSERT INTO conversation_windows (instance_id, phone, last_inbound_at) VALUES (?, ?, ?)',
		);
		bulk(db, conversations, (i) => {
			const phone = `+9665${String(90_000_000 + i).padStart(8, '0')}`;
			const count = 1 + (i % 5);
			let at = first + Math.floor((i / conversations) * span);
			for (let n = 0; n < count; n += 1) {
				at += 60_000;
				insertInbound.run(
					account.id,
					instance.id,
					`wamid.seed-${i}-${n}`,
					phone,
					`Question ${n} about order #${i}`,
					at,
					at,
				);
			}
			rows.inbound_messages += count;
			insertWindow.run(instance.id, phone, at);
		});
		for (const index of indexes) db.exec(index.sql);
		return { key, accountId: account.id, instanceId: instance.id, rows, seconds: (performance.now() - started) / 1000 };
	} finally {
		gateway.close();
	}
}

module.exports = { seed };

if (require.main === module) {
	const [dataDir, messages, suppressions, conversations] = process.argv.slice(2);
	if (!dataDir) {
		console.error('usage: node bench/seed.js <data folder> [messages] [suppressions] [conversations]');
		process.exit(2);
	}
	const number = (text) => (text === undefined ? undefined : Number(text));
	const result = seed({
		dataDir,
		messages: number(messages),
		suppressions: number(suppressions),
		conversations: number(conversations),
	});
	console.log(JSON.stringify(result));
}
