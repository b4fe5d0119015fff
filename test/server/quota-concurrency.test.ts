import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Gateway } from '../../server/src/gateway';
import { listen } from '../helpers/gateway';

const phone = (n: number) => `+9665${String(20000000 + n)}`;

async function setUp(databasePath: string) {
	const gateway = new Gateway({ databasePath });
	const account = gateway.accounts.create({
		name: 'Busy shop',
		dailyLimit: 50,
		monthlyLimit: 1000,
		instanceRatePerMinute: 100_000,
	});
	gateway.instances.create({
		accountId: account.id,
		name: 'busy-line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const keys = [gateway.accounts.createKey(account.id).key, gateway.accounts.createKey(account.id).key];
	const server = await listen(gateway.createApp().callback());
	return { gateway, account, keys, server };
}

function send(url: string, key: string, n: number) {
	return fetch(`${url}/api/send-message`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({
			instance_id: 'busy-line',
			phone: phone(n),
			message: `Your order #${n} has been shipped.`,
			message_purpose: 'transactional',
		}),
	}).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: string } }));
}

describe('quota under concurrency', () => {
	let dir: string;
	beforeEach(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-quota-'));
	});
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	it('a custom daily limit of 50 lets exactly 50 of 200 simultaneous sends through, and survives a restart', async () => {
		const databasePath = path.join(dir, 'gateway.db');
		const { gateway, account, keys, server } = await setUp(databasePath);
		try {
			const results = await Promise.all(Array.from({ length: 200 }, (_, n) => send(server.url, keys[n % 2], n)));
			const sent = results.filter((result) => result.status === 200);
			const limited = results.filter((result) => result.status === 429);
			expect(sent).toHaveLength(50);
			expect(limited).toHaveLength(150);
			expect(new Set(limited.map((result) => result.body.error))).toEqual(new Set(['daily_message_limit_exceeded']));
			const rows = gateway.db
				.prepare('SELECT status, COUNT(*) AS n FROM message_log GROUP BY status ORDER BY status')
				.all();
			expect(rows).toEqual([
				{ status: 'blocked', n: 150 },
				{ status: 'sent', n: 50 },
			]);
			expect(gateway.messaging.log.usage(gateway.accounts.get(account.id)).today).toBe(50);
		} finally {
			await server.close();
			gateway.close();
		}

		// A new process on the same database still counts the 50.
		const restarted = new Gateway({ databasePath });
		const again = await listen(restarted.createApp().callback());
		try {
			const res = await send(again.url, keys[0], 999);
			expect(res.status).toBe(429);
			expect(res.body).toMatchObject({ error: 'daily_message_limit_exceeded', details: { limit: 50, used: 50 } });
		} finally {
			await again.close();
			restarted.close();
		}
	});
});
