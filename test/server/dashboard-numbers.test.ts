import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { createTestGateway, sendBody, type TestGateway } from '../helpers/gateway';

/**
 * Numbers read from a dashboard URL are whole numbers JavaScript holds exactly: a longer one
 * (Number('100000000000000000000') is 1e20, bound to SQLite as REAL) is the page a bad value gets, never a 500.
 */
describe('dashboard numbers in URLs', () => {
	const HUGE = '100000000000000000000';
	const BEYOND_SAFE = '9007199254740993';
	let gw: TestGateway;
	let client: DashboardClient;
	beforeAll(async () => {
		gw = createTestGateway({ adminToken: ADMIN_TOKEN });
		client = await signIn(gw);
		gw.gateway.suppressions.add(gw.accountId, '+966501234567', 'complaint', 'manual');
		await gw.send(sendBody());
	});
	afterAll(() => gw.close());

	it.each([
		["the suppression list's offset", '/suppressed-recipients?offset=', 400],
		["the message log's before", '/messages?before=', 400],
		["the inbound log's before", '/inbound-logs?before=', 400],
		['an account chosen by ?account=', '/messages?account=', 404],
		["a message's log number", '/messages/', 404],
		["an account's page", '/accounts/', 404],
	])('%s: too long a number is the page a bad value gets, not a 500', async (_name, path, status) => {
		for (const number of [HUGE, BEYOND_SAFE]) {
			const res = await client.get(`${path}${number}`);
			expect(res.status).toBe(status);
			expect(res.text).toMatch(
				status === 400 ? /That page of the list does not exist\./ : /There is no|has no message/,
			);
		}
	});

	it('still reads the numbers that are whole', async () => {
		expect((await client.get('/suppressed-recipients?offset=0')).text).toContain('+966501234567');
		expect((await client.get('/suppressed-recipients?offset=9007199254740991')).text).toContain(
			'Nobody is suppressed.',
		);
		expect((await client.get('/messages?before=2')).text).toContain('>#1</a>');
		expect((await client.get('/messages/1')).status).toBe(200);
		expect((await client.get(`/accounts/${gw.accountId}`)).status).toBe(200);
	});

	it.each([
		['a webhook delivery to redeliver', (instance: string) => `/instances/${instance}/deliveries/${HUGE}/redeliver`],
		['a 3CX integration', () => `/integrations/3cx/${HUGE}/rotate-secret`],
	])('%s: too long a number is a 404 page', async (_name, path) => {
		expect((await client.post(path(gw.instanceId))).status).toBe(404);
	});
});
