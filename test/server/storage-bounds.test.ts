import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { migrate, readMigrations } from '../../server/src/db';
import { Gateway } from '../../server/src/gateway';
import { ApiError } from '../../server/src/http/errors';
import { REFUSALS_LOGGED_PER_MINUTE } from '../../server/src/messaging/limits';
import { ManualClock } from '../helpers/clock';
import { PHONE, sendBody } from '../helpers/gateway';

let dir: string;
let gateway: Gateway;
beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-bounds-'));
});
afterEach(() => {
	gateway?.close();
	fs.rmSync(dir, { recursive: true, force: true });
});

const bytes = (g: Gateway) =>
	(g.db.pragma('page_count', { simple: true }) as number) * (g.db.pragma('page_size', { simple: true }) as number);

function setUp(clock = new ManualClock()) {
	gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), clock });
	const account = gateway.accounts.create({
		name: 'Flooder',
		recipientRatePerMinute: 100_000,
		instanceRatePerMinute: 100_000,
	});
	gateway.instances.create({
		accountId: account.id,
		name: 'demo-support-line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const { key } = gateway.accounts.createKey(account.id);
	const agent = request(gateway.createApp().callback());
	const send = (body: Record<string, unknown>) =>
		agent
			.post('/api/send-message')
			.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
			.send(JSON.stringify(body));
	return { clock, account, agent, send, key };
}

describe('refused attempts cannot fill the disk', () => {
	it('a ten-second flood of refused 4,096-character sends grows the database by less than 5 MB', async () => {
		const { clock, account, send } = setUp();
		const before = bytes(gateway);
		const flood = 2_000;
		const text = 'x'.repeat(4096);
		// 2,000 refusals spread over ten seconds of the gateway's clock, 50 at a time.
		for (let sent = 0; sent < flood; sent += 50) {
			const answers = await Promise.all(
				Array.from({ length: 50 }, () => send(sendBody({ instance_id: 'no-such-line', message: text }))),
			);
			for (const answer of answers) expect(answer.body.error).toBe('invalid_instance');
			clock.advance(250);
		}
		gateway.flushWrites();
		const growth = bytes(gateway) - before;
		expect(growth).toBeLessThan(5 * 1024 * 1024);
		const logged = gateway.db
			.prepare('SELECT COUNT(*) AS n, MAX(length(message_text)) AS longest FROM message_log')
			.get() as { n: number; longest: number };
		expect(logged.n).toBe(REFUSALS_LOGGED_PER_MINUTE);
		expect(logged.longest).toBeLessThanOrEqual(80);
		const counted = gateway.db
			.prepare('SELECT account_id, error_code, SUM(count) AS n FROM refused_attempts GROUP BY account_id, error_code')
			.all();
		expect(counted).toEqual([
			{ account_id: account.id, error_code: 'invalid_instance', n: flood - REFUSALS_LOGGED_PER_MINUTE },
		]);
	});

	it('the budget is per minute: the next minute logs in full again', async () => {
		const { clock, send } = setUp();
		for (let i = 0; i < REFUSALS_LOGGED_PER_MINUTE + 5; i += 1) await send(sendBody({ instance_id: 'nope' }));
		clock.advance(60_000);
		await send(sendBody({ instance_id: 'nope', message: 'after the minute' }));
		gateway.flushWrites();
		const last = gateway.db.prepare('SELECT message_text FROM message_log ORDER BY id DESC LIMIT 1').get();
		expect(last).toEqual({ message_text: 'after the minute' });
	});

	it('a refusal whose batch rolled back and ran again alone takes one unit of the budget, not two', async () => {
		const { account } = setUp();
		const attempt = {
			now: gateway.clock.now(),
			account: gateway.accounts.get(account.id),
			apiKeyId: null,
			source: 'api' as const,
			idempotencyKey: undefined,
			asked: { instanceRef: 'nope', phone: PHONE, purpose: 'transactional', text: 'hello' },
		};
		const refuse = () =>
			gateway.messaging.sends.refuse(attempt, new ApiError('invalid_instance', { instance_id: 'nope' }));
		// Ten refusals and, in the same batch, a status report for an instance that does not exist: that job
		// fails, the batch rolls back, and each job runs again in a transaction of its own.
		const first = await Promise.allSettled([
			...Array.from({ length: 10 }, refuse),
			gateway.inbound.receiveStatus({
				instanceId: 'no-such-instance',
				providerMessageId: 'wamid.x',
				status: 'delivered',
			}),
		]);
		expect(first.map((outcome) => outcome.status)).toEqual([...Array(11).fill('rejected')]);
		for (let i = 10; i < REFUSALS_LOGGED_PER_MINUTE + 1; i += 1) await refuse().catch(() => undefined);
		const logged = gateway.db.prepare('SELECT COUNT(*) AS n FROM message_log').get();
		expect(logged).toEqual({ n: REFUSALS_LOGGED_PER_MINUTE });
		expect(gateway.db.prepare('SELECT SUM(count) AS n FROM refused_attempts').get()).toEqual({ n: 1 });
	});
});

describe('the message log is numbered per account', () => {
	it('log_id counts each account’s own messages from 1, whatever the others send', async () => {
		const { send, agent, key } = setUp();
		const other = gateway.accounts.create({ name: 'Other', recipientRatePerMinute: 1000 });
		gateway.instances.create({
			accountId: other.id,
			name: 'other-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const otherKey = gateway.accounts.createKey(other.id).key;
		const sendOther = (n: number) =>
			agent
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${otherKey}`, 'Content-Type': 'application/json' })
				.send(JSON.stringify(sendBody({ instance_id: 'other-line', message: `Order ${n} shipped.` })));
		const mine: number[] = [];
		for (let n = 0; n < 3; n += 1) {
			await sendOther(n);
			await sendOther(n + 100);
			mine.push((await send(sendBody({ message: `Your order ${n} shipped.` }))).body.log_id);
		}
		expect(mine).toEqual([1, 2, 3]);
		const message = await agent.get('/api/messages/2').set('Authorization', `Bearer ${key}`);
		expect(message.body.message).toMatchObject({ log_id: 2, phone: PHONE, status: 'sent' });
	});

	it('a number is never given twice, even after retention removed the entries', async () => {
		const { clock, send } = setUp();
		expect((await send(sendBody({ message: 'First order shipped.' }))).body.log_id).toBe(1);
		clock.advance(100 * 86_400_000);
		gateway.housekeeping(90);
		expect(gateway.db.prepare('SELECT COUNT(*) AS n FROM message_log').get()).toEqual({ n: 0 });
		expect((await send(sendBody({ message: 'Second order shipped.' }))).body.log_id).toBe(2);
	});

	it('a restart goes on after the highest number given, also when retention removed every entry first', async () => {
		const { clock, send, key } = setUp();
		const sendWith = (g: Gateway, message: string) =>
			request(g.createApp().callback())
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
				.send(JSON.stringify(sendBody({ message })));
		const first = await Promise.all([1, 2, 3].map((n) => send(sendBody({ message: `Order ${n} shipped.` }))));
		expect(first.map((answer) => answer.body.log_id).sort()).toEqual([1, 2, 3]);
		gateway.close();
		gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), clock });
		expect((await sendWith(gateway, 'Order 4 shipped.')).body.log_id).toBe(4);
		clock.advance(100 * 86_400_000);
		gateway.housekeeping(90);
		expect(gateway.db.prepare('SELECT COUNT(*) AS n FROM message_log').get()).toEqual({ n: 0 });
		gateway.close();
		gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), clock });
		expect((await sendWith(gateway, 'Order 5 shipped.')).body.log_id).toBe(5);
	});
});

describe('the upgrade to per-account numbers', () => {
	it('keeps every log_id already given, and goes on after the highest one', () => {
		const db = new Database(':memory:');
		try {
			const all = readMigrations();
			migrate(
				db,
				all.filter((migration) => migration.version < 4),
			);
			db.exec(
				"INSERT INTO accounts (name, plan, created_at) VALUES ('a', 'starter', 0), ('b', 'starter', 0), ('c', 'starter', 0)",
			);
			const insert = db.prepare(
				"INSERT INTO message_log (account_id, status, http_status, created_at, updated_at) VALUES (?, 'sent', 200, 0, 0)",
			);
			for (const account of [1, 2, 1, 2, 1]) insert.run(account);
			db.exec('DELETE FROM message_log WHERE id = 5'); // retention removed the newest
			migrate(db, all);
			expect(db.prepare('SELECT id, account_seq FROM message_log ORDER BY id').all()).toEqual(
				[1, 2, 3, 4].map((id) => ({ id, account_seq: id })),
			);
			const next = db.prepare(
				`INSERT INTO message_log_sequences (account_id, last_seq) VALUES (?, 1)
         ON CONFLICT (account_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
			);
			expect([1, 2, 3].map((account) => next.pluck().get(account))).toEqual([6, 6, 6]);
		} finally {
			db.close();
		}
	});
});
