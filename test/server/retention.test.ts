import request from 'supertest';
import { Gateway } from '../../server/src/gateway';
import { ManualClock } from '../helpers/clock';
import { PHONE, sendBody } from '../helpers/gateway';

const DAY = 86_400_000;
const count = (gateway: Gateway, table: string) =>
	(gateway.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('retention', () => {
	it('housekeeping drops history older than the retention period and keeps anything pending', async () => {
		const clock = new ManualClock();
		const gateway = new Gateway({ databasePath: ':memory:', clock });
		try {
			const account = gateway.accounts.create({ name: 'Shop' });
			const instance = gateway.instances.create({
				accountId: account.id,
				name: 'demo-support-line',
				provider: 'sandbox',
				connectionState: 'connected',
			});
			const { key } = gateway.accounts.createKey(account.id);
			const webhook = await gateway.webhooks.create({
				accountId: account.id,
				destinationUrl: 'http://127.0.0.1:9/hook',
				events: ['message.received'],
			});
			const app = request(gateway.createApp().callback());
			const send = () =>
				app
					.post('/api/send-message')
					.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
					.send(JSON.stringify(sendBody({ message: `Order ${clock.now()} shipped.` })));

			// Old history: a send, an inbound message whose delivery finished.
			expect((await send()).status).toBe(200);
			await gateway.inbound.receiveMessage({
				instanceId: instance.id,
				providerMessageId: 'wamid.old',
				from: PHONE,
				text: 'old',
			});
			const [old] = gateway.webhooks.deliveries({});
			gateway.db.prepare("UPDATE deliveries SET status = 'succeeded' WHERE id = ?").run(old.id);

			clock.advance(40 * DAY);
			// Still pending after 40 days (a disabled receiver, say): kept whatever its age.
			await gateway.inbound.receiveMessage({
				instanceId: instance.id,
				providerMessageId: 'wamid.stuck',
				from: PHONE,
				text: 'stuck',
			});

			clock.advance(55 * DAY);
			// Recent history.
			expect((await send()).status).toBe(200);
			await gateway.inbound.receiveMessage({
				instanceId: instance.id,
				providerMessageId: 'wamid.new',
				from: PHONE,
				text: 'new',
			});
			gateway.flushWrites();

			expect([
				count(gateway, 'message_log'),
				count(gateway, 'inbound_messages'),
				count(gateway, 'events'),
				count(gateway, 'deliveries'),
			]).toEqual([2, 3, 3, 3]);
			gateway.housekeeping(90);
			expect(count(gateway, 'message_log')).toBe(1);
			expect(count(gateway, 'message_status_history')).toBe(1);
			expect(count(gateway, 'inbound_messages')).toBe(2);
			const kept = gateway.webhooks.deliveries({ webhookId: webhook.webhook.id });
			expect(kept.map((row) => row.status)).toEqual(['pending', 'pending']);
			expect(count(gateway, 'events')).toBe(2);

			gateway.housekeeping(0); // 0 keeps everything
			expect(count(gateway, 'message_log')).toBe(1);
		} finally {
			gateway.close();
		}
	});
});
