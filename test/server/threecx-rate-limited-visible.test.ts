/**
 * 3CX's rate limit made visible (issue 24, item 18): each 429 is counted per integration for `3cx show`,
 * the dashboard's 3CX page and /metrics; and `{{call_time}}` of an event without a call time is the time
 * the gateway received it, as the 3CX node's help says.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import fixtures from '../fixtures/reference-threecx-section5.json';
import { Gateway } from '../../server/src/gateway';
import { REQUESTS_PER_MINUTE } from '../../server/src/threecx/rate-limit';
import { cli, tempDir } from '../helpers/cli';
import { ManualClock } from '../helpers/clock';
import { ADMIN_TOKEN, signIn } from '../helpers/dashboard';
import { createThreecxGateway, type ThreecxTestGateway } from '../helpers/threecx';

const [testEvent] = fixtures.happy_path;
const missedCall = fixtures.happy_path[4];
const OVER = 4;

let t: ThreecxTestGateway | undefined;
afterEach(() => t?.close());

describe('requests refused by the 3CX rate limit', () => {
	it('are counted per integration on the dashboard and in /metrics', async () => {
		t = await createThreecxGateway({ adminToken: ADMIN_TOKEN });
		const other = await t.gateway.threecx.integrations.create(t.accountId, { instance: 'demo-support-line' });
		const statuses: number[] = [];
		for (let i = 0; i < REQUESTS_PER_MINUTE + OVER; i += 1) statuses.push((await t.post(testEvent)).status);
		expect(statuses.filter((status) => status === 429)).toHaveLength(OVER);
		expect(t.gateway.threecx.service.rateLimited(t.integrationId)).toEqual({
			lastHour: OVER,
			lastDay: OVER,
			lastAt: Math.floor(t.clock.now() / 60_000) * 60_000,
		});
		expect(t.gateway.threecx.service.rateLimited(other.integration.id)).toMatchObject({ lastHour: 0, lastDay: 0 });

		const metrics = await t.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
		expect(metrics.text).toContain(`whatsapp_gateway_3cx_rate_limited_total{integration="${t.integrationId}"} ${OVER}`);

		const client = await signIn(t);
		const page = await client.get(`/integrations/3cx?account=${t.accountId}`);
		expect(page.status).toBe(200);
		expect(page.text).toContain(`data-rate-limited="${OVER}"`);
		expect(page.text).toContain('30 calls');
		expect(page.text).toContain('data-rate-limited="0"');

		// An hour later the last hour is clear; the day still counts them.
		t.clock.advance(60 * 60_000);
		expect(t.gateway.threecx.service.rateLimited(t.integrationId)).toMatchObject({ lastHour: 0, lastDay: OVER });
	});

	it('are shown by 3cx show', async () => {
		const dir = tempDir('wg-3cx-limit-');
		try {
			// The CLI reads the counts against the system clock, so they are made at its time.
			const clock = new ManualClock(Date.now());
			const gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), clock });
			try {
				const account = gateway.accounts.create({ name: 'PBX' });
				gateway.instances.create({
					accountId: account.id,
					name: 'line',
					provider: 'sandbox',
					connectionState: 'connected',
				});
				const { integration, secret } = await gateway.threecx.integrations.create(account.id, { instance: 'line' });
				const agent = request(gateway.createApp().callback());
				for (let i = 0; i < REQUESTS_PER_MINUTE + OVER; i += 1) {
					await agent
						.post(`/integrations/3cx/webhook/${integration.id}`)
						.set({ 'Content-Type': 'application/json', 'X-WhatsApp-Gateway-3CX-Secret': secret })
						.send(JSON.stringify(testEvent));
				}
			} finally {
				gateway.close();
			}
			const shown = await cli(dir, '3cx', 'show', '1', '--json');
			expect(shown.code).toBe(0);
			expect((shown.json() as { rate_limited: unknown }).rate_limited).toEqual({
				limit_per_minute: 60,
				last_hour: OVER,
				last_24_hours: OVER,
				last_at: expect.any(String),
			});
			const human = await cli(dir, '3cx', 'show', '1');
			expect(human.stdout).toContain('rate limited (429, 60 requests a minute = 30 calls)');
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('{{call_time}} of an event without a call time', () => {
	it('is the time the gateway received the event, in the account time zone; the event log keeps it empty', async () => {
		t = await createThreecxGateway({
			account: { timeZone: 'Asia/Riyadh' },
			integration: { templates: { missed_call: { text: 'We missed your call at {{call_time}}.' } } },
		});
		await t.customerWrites();
		const { call_time: _given, ...withoutTime } = missedCall as Record<string, unknown>;
		const answer = await t.post({ ...withoutTime, call_time: '' });
		expect(answer.body).toMatchObject({ action: 'sent' });
		// The clock stands at 10:30 UTC: 13:30 in Riyadh.
		expect(t.threecxLog()[0].message_text).toBe('We missed your call at 2026-09-15 13:30.');
		expect(t.gateway.threecx.service.recentEvents(t.integrationId, 1)[0].call_time).toBeNull();
	});
});
