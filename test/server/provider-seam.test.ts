import { Writable } from 'node:stream';
import request from 'supertest';
import { Gateway } from '../../server/src/gateway';
import { createLogger } from '../../server/src/logger';
import { ProviderRegistry } from '../../server/src/providers/registry';
import { ProviderError } from '../../server/src/providers/types';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

const SECRET = 'evo-api-key-DO-NOT-LEAK-0123456789';

let t: TestGateway;
afterEach(() => t?.close());

describe('per-instance provider settings', () => {
	it('reach the provider with each send, and never an API answer', async () => {
		t = createTestGateway();
		const line = t.gateway.instances.create({
			accountId: t.accountId,
			name: 'settings-line',
			provider: 'sandbox',
			connectionState: 'connected',
			providerSettings: { apiKey: SECRET, baseUrl: 'http://127.0.0.1:8080' },
		});
		const seen: unknown[] = [];
		const original = t.sandbox.sendText.bind(t.sandbox);
		t.sandbox.sendText = (instance, to, text) => {
			seen.push(instance);
			return original(instance, to, text);
		};
		const sent = await t.send(sendBody({ instance_id: 'settings-line' }));
		expect(sent.status).toBe(200);
		expect(seen).toEqual([
			{ id: line.id, name: 'settings-line', settings: { apiKey: SECRET, baseUrl: 'http://127.0.0.1:8080' } },
		]);

		const auth = { Authorization: `Bearer ${t.apiKey}` };
		const answers = [
			await t.http.get('/api/instances').set(auth),
			await t.http.get(`/api/messages/${sent.body.log_id}`).set(auth),
			await t.http.get('/api/me').set(auth),
		];
		for (const answer of answers) {
			expect(answer.status).toBe(200);
			expect(JSON.stringify(answer.body)).not.toContain(SECRET);
		}
	});

	it('are redacted from log lines', () => {
		let output = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				output += chunk.toString();
				done();
			},
		});
		createLogger('info', sink).info(
			{ instance: { id: 'inst_1', providerSettings: { apiKey: SECRET } }, settings: { token: SECRET } },
			'x',
		);
		expect(output).not.toContain(SECRET);
	});

	it('leave one access line per request, with its method, path, status and time and nothing of the key', async () => {
		let output = '';
		const sink = new Writable({
			write(chunk, _encoding, done) {
				output += chunk.toString();
				done();
			},
		});
		const gateway = new Gateway({ databasePath: ':memory:', logger: createLogger('info', sink) });
		try {
			const account = gateway.accounts.create({ name: 'Logged' });
			gateway.instances.create({
				accountId: account.id,
				name: 'demo-support-line',
				provider: 'sandbox',
				connectionState: 'connected',
			});
			const { key } = gateway.accounts.createKey(account.id);
			const answer = await request(gateway.createApp().callback())
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
				.send(JSON.stringify(sendBody()));
			expect(answer.status).toBe(200);
			const lines = output
				.trim()
				.split('\n')
				.map((line) => JSON.parse(line));
			expect(lines.filter((line) => line.msg === 'request')).toEqual([
				expect.objectContaining({
					level: 30,
					service: 'whatsapp-gateway',
					method: 'POST',
					path: '/api/send-message',
					status: 200,
					ms: expect.any(Number),
				}),
			]);
			expect(output).not.toContain(key);
		} finally {
			gateway.close();
		}
	});

	it('an instance can only name a provider this gateway has', () => {
		t = createTestGateway();
		expect(() =>
			t.gateway.instances.create({
				accountId: t.accountId,
				name: 'waha-line',
				provider: 'waha',
				connectionState: 'disconnected',
			}),
		).toThrow('provider must be one of sandbox, evolution, cloud (got "waha")');
	});
});

describe('the provider registry', () => {
	it('an unknown provider is a definite refusal: nothing was sent', () => {
		const registry = new ProviderRegistry([]);
		expect(() => registry.get('evolution')).toThrow(ProviderError);
		try {
			registry.get('evolution');
		} catch (error) {
			expect((error as ProviderError).outcome).toBe('rejected');
		}
	});
});

describe('provider reports join the group commit', () => {
	it('a status reported in the same turn as the send is applied after the send’s outcome', async () => {
		t = createTestGateway();
		let report: Promise<unknown> = Promise.resolve();
		// The provider reports `delivered` while the send's own outcome is still queued: the report waits its turn.
		t.sandbox.onSend((send) => {
			setImmediate(() => {
				report = t.gateway.inbound.receive(send.instanceId, [
					{ kind: 'status', providerMessageId: send.messageId, status: 'delivered' },
				]);
			});
		});
		const sent = await t.send(sendBody());
		await report;
		const message = await t.http.get(`/api/messages/${sent.body.log_id}`).set('Authorization', `Bearer ${t.apiKey}`);
		expect(message.body.message.status).toBe('delivered');
		expect(message.body.message.history.map((row: { status: string }) => row.status)).toEqual(['sent', 'delivered']);
	});

	it('inbound messages and connection reports of one turn are stored in one commit, each answered once it is in', async () => {
		t = createTestGateway();
		const transactions = jest.spyOn(t.gateway.db, 'transaction');
		const line = { id: t.instanceId };
		const reported = [
			t.gateway.inbound.receive(line.id, [
				{ kind: 'message', providerMessageId: 'wamid.one', from: '+966500000001', text: 'one' },
			]),
			t.gateway.inbound.receive(line.id, [
				{ kind: 'message', providerMessageId: 'wamid.two', from: '+966500000002', text: 'two' },
			]),
			t.gateway.inbound.receive(line.id, [
				{ kind: 'message', providerMessageId: 'wamid.one', from: '+966500000001', text: 'one' },
			]),
			t.gateway.inbound.receive(line.id, [{ kind: 'connection', state: 'disconnected' }]),
			t.gateway.inbound.receive(line.id, [{ kind: 'connection', state: 'disconnected' }]),
		];
		const results = await Promise.all(reported);
		expect(transactions).toHaveBeenCalledTimes(1);
		expect(results.map((result) => result.duplicate)).toEqual([false, false, true, false, true]);
		expect(t.gateway.db.prepare('SELECT COUNT(*) AS n FROM inbound_messages').get()).toEqual({ n: 2 });
		expect(t.gateway.instances.get(line.id).connectionState).toBe('disconnected');
	});
});
