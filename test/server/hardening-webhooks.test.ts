import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { EVENT_TYPES } from '../../server/src/events/catalog';
import { Gateway } from '../../server/src/gateway';
import { createLogger } from '../../server/src/logger';
import { cli, tempDir } from '../helpers/cli';
import { ManualClock } from '../helpers/clock';
import { PHONE } from '../helpers/gateway';
import { startReceiver } from '../helpers/receiver';

/** Issue 8, items 1 and 9: tenants cannot stall each other's webhooks; subscription limits; webhook health. */

let dir: string;
beforeEach(() => {
	dir = tempDir('wg-webhooks-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function tenant(gateway: Gateway, name: string, input: { webhookLimit?: number } = {}) {
	const account = gateway.accounts.create({ name, ...input });
	const instance = gateway.instances.create({
		accountId: account.id,
		name,
		provider: 'sandbox',
		connectionState: 'connected',
	});
	let inbound = 0;
	return {
		account,
		instance,
		subscribe: (url: string, events: string[] = ['message.received']) =>
			gateway.webhooks.create({ accountId: account.id, destinationUrl: url, events }),
		receive: (text = 'hello') => {
			inbound += 1;
			return gateway.inbound.receiveMessage({
				instanceId: instance.id,
				providerMessageId: `wamid.${name}-${inbound}`,
				from: PHONE,
				text,
			});
		},
	};
}

/** A TCP server that accepts connections and never answers. */
async function blackHole() {
	const sockets: net.Socket[] = [];
	const waiters: { count: number; resolve: () => void }[] = [];
	const server = net.createServer((socket) => {
		socket.on('error', () => undefined);
		sockets.push(socket);
		for (const waiter of waiters.filter((w) => sockets.length >= w.count)) {
			waiters.splice(waiters.indexOf(waiter), 1);
			waiter.resolve();
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}/hook`,
		sockets,
		connections: (count: number) =>
			sockets.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
		close: async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

describe('fair delivery between tenants', () => {
	it('with one tenant’s 60 subscriptions to a black hole and 600 deliveries pending, another tenant’s event arrives while the black hole still holds every attempt', async () => {
		const hole = await blackHole();
		const healthy = await startReceiver();
		// The gateway's defaults: 16 slots, a 10 s attempt timeout.
		const gateway = new Gateway({ databasePath: ':memory:' });
		try {
			const attacker = tenant(gateway, 'tenant-c', { webhookLimit: 60 });
			for (let i = 0; i < 60; i += 1) await attacker.subscribe(hole.url, [...EVENT_TYPES]);
			for (let i = 0; i < 10; i += 1) await attacker.receive(`backlog ${i}`);
			const victim = tenant(gateway, 'tenant-a');
			const { webhook: victimHook } = await victim.subscribe(healthy.url);
			const pending = () =>
				gateway.db.prepare("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'").get() as { n: number };
			expect(pending().n).toBe(600);

			gateway.deliveries.start();
			// The black hole holds every slot the attacker may take (three quarters of 16) before the victim's event.
			await hole.connections(12);
			await victim.receive('Where is my order?');
			// The wait is only a guard: how soon is not the point, but that no slot had to be freed first.
			await healthy.waitFor(1, 20_000);
			expect(healthy.events('message.received')).toHaveLength(1);
			// An attempt is counted when it ends, and the black hole ends one only by the 10 s timeout: the victim's
			// event went out while every attacker attempt was still in flight, not after one gave up its slot.
			const attempted = gateway.db
				.prepare('SELECT count(*) AS n FROM deliveries WHERE webhook_id != ? AND attempts > 0')
				.get(victimHook.id) as { n: number };
			expect(attempted.n).toBe(0);
			expect(pending().n).toBeGreaterThanOrEqual(500);
		} finally {
			await hole.close();
			await gateway.deliveries.stop();
			gateway.close();
			await healthy.close();
		}
	});

	it('a receiver that keeps failing gets one attempt at a time until one succeeds', async () => {
		let answer = 500;
		let inFlight = 0;
		const arrivals: { concurrent: number; answer: number }[] = [];
		const waiters: { count: number; resolve: () => void }[] = [];
		const server = http.createServer((req, res) => {
			inFlight += 1;
			arrivals.push({ concurrent: inFlight, answer });
			for (const waiter of waiters.filter((w) => arrivals.length >= w.count)) {
				waiters.splice(waiters.indexOf(waiter), 1);
				waiter.resolve();
			}
			req.resume();
			// Each answer is held a little, so attempts launched together overlap at the receiver.
			setTimeout(() => {
				inFlight -= 1;
				res.writeHead(answer).end();
			}, 50);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
		const arrived = (count: number) =>
			new Promise<void>((resolve) => (arrivals.length >= count ? resolve() : waiters.push({ count, resolve })));
		const gateway = new Gateway({
			databasePath: ':memory:',
			delivery: { retryScheduleMs: new Array<number>(40).fill(0), pollMs: 50, timeoutMs: 5000, concurrency: 16 },
		});
		try {
			const owner = tenant(gateway, 'owner');
			await owner.subscribe(url);
			for (let i = 0; i < 40; i += 1) await owner.receive(`event ${i}`);
			gateway.deliveries.start();
			await arrived(60);
			answer = 200;
			const failing = arrivals.slice(0, 60);
			expect(failing[0].concurrent).toBe(1);
			expect(Math.max(...failing.slice(0, 12).map((a) => a.concurrent))).toBeGreaterThan(1); // the first wave, before it was known to fail
			// Once it had failed three times in a row, and the attempts already under way had ended: one at a time.
			expect(failing.slice(30).map((a) => a.concurrent)).toEqual(new Array<number>(30).fill(1));
			await gateway.deliveries.idle();
			const afterRecovery = arrivals.slice(60).filter((a) => a.answer === 200);
			expect(Math.max(...afterRecovery.map((a) => a.concurrent))).toBeGreaterThan(1);
			const rows = gateway.db.prepare('SELECT status, count(*) AS n FROM deliveries GROUP BY status').all();
			expect(rows).toEqual([{ status: 'succeeded', n: 40 }]);
		} finally {
			await gateway.deliveries.stop();
			gateway.close();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	});
});

describe('per-account subscription limit', () => {
	it('plan defaults (Starter 5, Growth 20, Scale 50), 422 webhook_limit_reached, and a reviewed override with the CLI', async () => {
		const file = path.join(dir, 'gateway.db');
		const gateway = new Gateway({ databasePath: file });
		const receiver = await startReceiver();
		try {
			const account = gateway.accounts.create({ name: 'Starter tenant' });
			const { key } = gateway.accounts.createKey(account.id);
			const app = request(gateway.createApp().callback());
			const create = () =>
				app
					.post('/api/webhooks')
					.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
					.send({ destination_url: receiver.url, events: ['message.received'] });
			for (let i = 0; i < 5; i += 1) expect((await create()).status).toBe(201);
			const refused = await create();
			expect(refused.status).toBe(422);
			expect(refused.body).toEqual({
				success: false,
				error: 'webhook_limit_reached',
				message:
					'This account has reached its webhook subscription limit. Delete a subscription or request a reviewed higher limit.',
				details: { limit: 5, used: 5 },
			});

			const cliCreate = () =>
				cli(
					dir,
					'webhooks',
					'create',
					'--account',
					String(account.id),
					'--url',
					receiver.url,
					'--events',
					'message.received',
					'--json',
				);
			const cliRefused = await cliCreate();
			expect(cliRefused.code).toBe(1);
			expect(cliRefused.stderr).toMatch(/at most 5/);

			const raised = await cli(dir, 'accounts', 'update', String(account.id), '--webhook-limit', '7', '--json');
			expect(raised.json()).toMatchObject({ webhooks: { limit: 7, custom: true } });
			expect((await create()).status).toBe(201);
			expect((await cliCreate()).code).toBe(0);
			expect((await create()).body.details).toEqual({ limit: 7, used: 7 });

			const back = await cli(dir, 'accounts', 'update', String(account.id), '--webhook-limit', 'plan', '--json');
			expect(back.json()).toMatchObject({ webhooks: { limit: 5, custom: false } });
			const growth = await cli(dir, 'accounts', 'update', String(account.id), '--plan', 'growth', '--json');
			expect(growth.json()).toMatchObject({ webhooks: { limit: 20, custom: false } });
			expect(
				(await cli(dir, 'accounts', 'update', String(account.id), '--plan', 'scale', '--json')).json(),
			).toMatchObject({ webhooks: { limit: 50 } });
			expect((await cli(dir, 'accounts', 'update', String(account.id), '--webhook-limit', '-1')).code).not.toBe(0);
			// Deleting one makes room again.
			const listed = (await app.get('/api/webhooks').set({ Authorization: `Bearer ${key}` })).body.webhooks as {
				id: string;
			}[];
			expect(listed).toHaveLength(7);
		} finally {
			gateway.close();
			await receiver.close();
		}
	});
});

describe('webhook health', () => {
	it('shows last success, last failure and reason, consecutive failures and pending deliveries; warns on a first failure, rate-limited', async () => {
		let logs = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				logs += chunk.toString();
				done();
			},
		});
		const warnings = () =>
			logs
				.split('\n')
				.filter(Boolean)
				.map((line) => JSON.parse(line) as { msg: string; webhookId?: string; reason?: string })
				.filter((line) => line.msg === 'webhook delivery failed; retrying on schedule');
		const clock = new ManualClock();
		const receiver = await startReceiver();
		const gateway = new Gateway({
			databasePath: path.join(dir, 'gateway.db'),
			clock,
			logger: createLogger('warn', sink),
			delivery: { retryScheduleMs: [0, 1000, 1000, 1000, 1000], pollMs: 50 },
		});
		try {
			const owner = tenant(gateway, 'owner');
			const { key } = gateway.accounts.createKey(owner.account.id);
			const { webhook } = await owner.subscribe(receiver.url);
			const app = request(gateway.createApp().callback());
			const health = async () => {
				const one = await app.get(`/api/webhooks/${webhook.id}`).set({ Authorization: `Bearer ${key}` });
				const all = await app.get('/api/webhooks').set({ Authorization: `Bearer ${key}` });
				expect(all.body.webhooks[0].health).toEqual(one.body.webhook.health);
				return one.body.webhook.health as Record<string, unknown>;
			};
			expect(await health()).toEqual({
				last_success_at: null,
				last_failure_at: null,
				last_failure_reason: null,
				consecutive_failures: 0,
				pending_deliveries: 0,
			});
			gateway.deliveries.start();

			receiver.reply({ status: 503 }, { status: 503 });
			const firstFailureAt = new Date(clock.now()).toISOString();
			await owner.receive();
			await receiver.waitFor(1);
			await gateway.deliveries.idle();
			expect(await health()).toEqual({
				last_success_at: null,
				last_failure_at: firstFailureAt,
				last_failure_reason: 'HTTP 503',
				consecutive_failures: 1,
				pending_deliveries: 1,
			});
			expect(warnings()).toEqual([expect.objectContaining({ webhookId: webhook.id, reason: 'HTTP 503' })]);

			clock.advance(1000);
			await gateway.deliveries.idle();
			expect(await health()).toMatchObject({ consecutive_failures: 2, pending_deliveries: 1 });
			expect(warnings()).toHaveLength(1);

			clock.advance(1000);
			const successAt = new Date(clock.now()).toISOString();
			await gateway.deliveries.idle();
			expect(await health()).toEqual({
				last_success_at: successAt,
				last_failure_at: new Date(clock.now() - 1000).toISOString(),
				last_failure_reason: 'HTTP 503',
				consecutive_failures: 0,
				pending_deliveries: 0,
			});
			const listed = await cli(dir, 'webhooks', 'list', '--json');
			expect((listed.json() as { health: unknown }[])[0].health).toEqual(await health());

			// A new first failure soon after: not logged again.
			receiver.reply({ status: 500 });
			await owner.receive();
			await receiver.waitFor(4);
			await gateway.deliveries.idle();
			expect(await health()).toMatchObject({ consecutive_failures: 1, last_failure_reason: 'HTTP 500' });
			expect(warnings()).toHaveLength(1);
			clock.advance(1000);
			await gateway.deliveries.idle();

			// Past the interval, a first failure is logged again.
			clock.advance(15 * 60_000);
			receiver.reply({ status: 502 });
			await owner.receive();
			await receiver.waitFor(6);
			await gateway.deliveries.idle();
			expect(warnings()).toHaveLength(2);
			expect(warnings()[1]).toMatchObject({ webhookId: webhook.id, reason: 'HTTP 502' });

			// A 410 is never retried: its first failure says the subscription is disabled, not "retrying".
			clock.advance(15 * 60_000);
			await receiver.waitFor(7);
			await gateway.deliveries.idle();
			receiver.reply({ status: 410 });
			await owner.receive();
			await receiver.waitFor(8);
			await gateway.deliveries.idle();
			expect(warnings()).toHaveLength(2);
			expect(logs).toContain('webhook disabled: destination answered 410 Gone');

			// Enabled again with the receiver still failing: the first failure that will be retried is warned
			// about, although it is not the first of the run (the 410 was).
			gateway.webhooks.setEnabled(webhook.id, true);
			receiver.reply({ status: 503 });
			await owner.receive();
			await receiver.waitFor(9);
			await gateway.deliveries.idle();
			expect(await health()).toMatchObject({ consecutive_failures: 2 });
			expect(warnings()).toHaveLength(3);
			expect(warnings()[2]).toMatchObject({ webhookId: webhook.id, reason: 'HTTP 503' });
		} finally {
			await gateway.deliveries.stop();
			gateway.close();
			await receiver.close();
		}
	});
});
