import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import request from 'supertest';
import { Gateway } from '../../server/src/gateway';
import { createLogger } from '../../server/src/logger';
import { sendBody } from '../helpers/gateway';

let dir: string;
let gateway: Gateway;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-full-'));
});
afterEach(() => {
	gateway?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

const phoneN = (n: number) => `+9665${String(30000000 + n)}`;

/** A gateway on a file database whose log lines can be awaited. */
function setUp() {
	const waiters: { text: string; resolve: () => void }[] = [];
	const logs = new Writable({
		write(chunk, _encoding, done) {
			for (const waiter of waiters.filter((item) => String(chunk).includes(item.text))) {
				waiters.splice(waiters.indexOf(waiter), 1);
				waiter.resolve();
			}
			done();
		},
	});
	gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), logger: createLogger('error', logs) });
	const account = gateway.accounts.create({
		name: 'Shop',
		recipientRatePerMinute: 1000,
		instanceRatePerMinute: 100_000,
		dailyLimit: 10_000,
	});
	gateway.instances.create({
		accountId: account.id,
		name: 'demo-support-line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const { key } = gateway.accounts.createKey(account.id);
	const agent = request(gateway.createApp().callback());
	return {
		agent,
		key,
		send: (n: number, headers: Record<string, string> = {}) =>
			agent
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers })
				.send(JSON.stringify(sendBody({ phone: phoneN(n), message: `Order ${n} has shipped.` }))),
		logged: (text: string) => new Promise<void>((resolve) => waiters.push({ text, resolve })),
	};
}

describe('a database that refuses writes', () => {
	it('a full database: answers 503 with Retry-After under load, never 500, and recovers by itself when space is back', async () => {
		const { send, agent, key } = setUp();
		gateway.sandboxStatuses.start(0);
		for (let n = 0; n < 5; n += 1) expect((await send(n)).status).toBe(200);

		// "Full": the database may not grow by a single page, as on a full disk.
		const pages = gateway.db.pragma('page_count', { simple: true }) as number;
		gateway.db.pragma(`max_page_count = ${pages}`);
		const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(100 + i)));
		// 503 before the provider was called (nothing sent: retry); once it was, the true answer (200), never "retry".
		expect(
			[...new Set(answers.map((answer) => answer.status))].every((status) => status === 200 || status === 503),
		).toBe(true);
		const refused = answers.filter((answer) => answer.status === 503);
		expect(refused.length).toBeGreaterThan(0);
		for (const answer of refused) {
			expect(answer.body).toMatchObject({ success: false, error: 'storage_unavailable' });
			expect(answer.headers['retry-after']).toBe('5');
		}

		// Space is back: sends go through without a restart, and every report of a sent message lands.
		gateway.db.pragma('max_page_count = 1073741823');
		expect((await send(999)).status).toBe(200);
		expect((await agent.get('/api/me').set('Authorization', `Bearer ${key}`)).status).toBe(200);
		await gateway.messaging.sends.outcomesSettled();
		await gateway.sandboxStatuses.settled();
		// Every send the provider took was answered 200 and its outcome is recorded, if later: none left `sending`.
		const sentCount = answers.filter((answer) => answer.status === 200).length + 6;
		const recorded = gateway.db
			.prepare(
				"SELECT COUNT(*) AS n FROM message_log WHERE provider_message_id IS NOT NULL AND status IN ('sent', 'delivered', 'read')",
			)
			.get();
		expect(recorded).toEqual({ n: sentCount });
		expect(gateway.db.prepare("SELECT COUNT(*) AS n FROM message_log WHERE status = 'sending'").get()).toEqual({
			n: 0,
		});
	});

	it('a send the full database refused gave its quota unit back: the day’s limit still lets exactly that many through', async () => {
		const { send } = setUp();
		const accountId = gateway.accounts.list()[0].id;
		gateway.accounts.update(accountId, { dailyLimit: 8 });
		for (let n = 0; n < 3; n += 1) expect((await send(n)).status).toBe(200);

		const pages = gateway.db.pragma('page_count', { simple: true }) as number;
		gateway.db.pragma(`max_page_count = ${pages}`);
		// Checked and reserved in the group commit's batch; a batch the full database rolls back returns its units.
		const during = await Promise.all(Array.from({ length: 20 }, (_, i) => send(100 + i)));
		expect(during.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
		const acceptedDuring = during.filter((answer) => answer.status === 200).length;

		gateway.db.pragma('max_page_count = 1073741823');
		const after = await Promise.all(Array.from({ length: 10 }, (_, i) => send(200 + i)));
		expect(after.filter((answer) => answer.status === 200)).toHaveLength(8 - 3 - acceptedDuring);
		expect(after.filter((answer) => answer.status !== 200).map((answer) => answer.body.error)).toEqual(
			Array(10 - (8 - 3 - acceptedDuring)).fill('daily_message_limit_exceeded'),
		);
	});

	it('a keyed send the full database refused left its key free: the retry with the same key sends, once', async () => {
		const { send } = setUp();
		const sends: unknown[] = [];
		gateway.sandbox.onSend((item) => sends.push(item));
		expect((await send(0)).status).toBe(200);
		const pages = gateway.db.pragma('page_count', { simple: true }) as number;
		gateway.db.pragma(`max_page_count = ${pages}`);
		const during = await Promise.all(
			Array.from({ length: 30 }, (_, i) => send(100 + i, { 'Idempotency-Key': `key-${i}` })),
		);
		const refused = during.flatMap((answer, i) => (answer.status === 503 ? [i] : []));
		expect(refused.length).toBeGreaterThan(0);

		gateway.db.pragma('max_page_count = 1073741823');
		const retried = await Promise.all(refused.map((i) => send(100 + i, { 'Idempotency-Key': `key-${i}` })));
		expect(retried.map((answer) => answer.status)).toEqual(refused.map(() => 200));
		expect(retried.every((answer) => answer.headers['idempotent-replayed'] === undefined)).toBe(true);
		// Each key sent once: the first try of the 200s, the retry of the 503s.
		expect(sends).toHaveLength(1 + 30);
	});

	it('a provider status report the database refuses is logged, not thrown, and stored on a later try', async () => {
		const { send, logged } = setUp();
		// The database refuses writes exactly while the first report (the sandbox's `delivered`) is being stored.
		const receive = gateway.inbound.receive.bind(gateway.inbound);
		let refuseNext = true;
		gateway.inbound.receive = async (...args) => {
			if (!refuseNext) return receive(...args);
			refuseNext = false;
			// What better-sqlite3 throws when the disk is full.
			throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
		};
		const refusedReport = logged('sandbox status report could not be stored');
		gateway.sandboxStatuses.start(0);
		const sent = await send(1);
		expect(sent.status).toBe(200);
		await refusedReport;
		await gateway.sandboxStatuses.settled();
		const row = gateway.db.prepare('SELECT status FROM message_log WHERE account_seq = ?').get(sent.body.log_id);
		expect(row).toEqual({ status: 'read' });
	});

	it('the delivery worker’s poll survives a database that fails under it: logged, never thrown', async () => {
		const waiters: (() => void)[] = [];
		const logs = new Writable({
			write(chunk, _encoding, done) {
				if (String(chunk).includes('delivery worker: polling for deliveries failed'))
					for (const resolve of waiters.splice(0)) resolve();
				done();
			},
		});
		const worker = new Gateway({
			databasePath: path.join(dir, 'worker.db'),
			logger: createLogger('error', logs),
			delivery: { pollMs: 10 },
		});
		const failed = new Promise<void>((resolve) => waiters.push(resolve));
		worker.deliveries.start();
		worker.db.close(); // every read now throws, as a database whose file went away would
		await failed;
		await worker.deliveries.stop();
	});
});
