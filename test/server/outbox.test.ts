import { events } from '../../server/src/events/catalog';
import { Gateway } from '../../server/src/gateway';
import { ManualClock } from '../helpers/clock';

let gateway: Gateway;
afterEach(() => gateway?.close());

describe('the event outbox', () => {
	it('builds an event given as a function only when the account has an enabled subscription, then records it', async () => {
		gateway = new Gateway({ databasePath: ':memory:', clock: new ManualClock(Date.UTC(2026, 11, 2)) });
		const account = gateway.accounts.create({ name: 'Events' });
		const instance = gateway.instances.create({
			accountId: account.id,
			name: 'events-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const build = jest.fn(() =>
			events.messageSent(
				{ instanceId: instance.id, instanceName: instance.displayName, at: Date.UTC(2026, 11, 2) },
				{ to: '+4915112345678', messageId: 'sandbox-1', purpose: 'transactional' },
			),
		);

		expect(gateway.outbox.record(account.id, build)).toBeUndefined();
		expect(build).not.toHaveBeenCalled();

		await gateway.webhooks.create({
			accountId: account.id,
			destinationUrl: 'http://127.0.0.1:9/hook',
			events: ['message.sent'],
		});
		const id = gateway.outbox.record(account.id, build);
		expect(build).toHaveBeenCalledTimes(1);
		expect(id).toMatch(/^evt_/);
		const row = gateway.db.prepare('SELECT type, payload FROM events WHERE id = ?').get(id) as {
			type: string;
			payload: string;
		};
		expect(row.type).toBe('message.sent');
		expect(JSON.parse(row.payload)).toMatchObject({
			event: 'message.sent',
			instance_id: instance.id,
			to: '+4915112345678',
			message_id: 'sandbox-1',
		});
		const deliveries = gateway.db.prepare('SELECT COUNT(*) AS n FROM deliveries WHERE event_id = ?').get(id) as {
			n: number;
		};
		expect(deliveries.n).toBe(1);

		// An event no subscription of the account wants is built (its type decides) but not recorded.
		const status = jest.fn(() =>
			events.messageStatus(
				'message.read',
				{ instanceId: instance.id, instanceName: instance.displayName, at: 0 },
				{ externalMessageId: 'sandbox-1', status: 'read' },
			),
		);
		expect(gateway.outbox.record(account.id, status)).toBeUndefined();
		expect(status).toHaveBeenCalledTimes(1);
	});
});
