/**
 * Refusals past an API key's per-minute log budget are counted in refused_attempts instead of logged
 * (docs/api.md): the operator sees them in `keys list` and in /metrics (issue 24, item 10).
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { Gateway } from '../../server/src/gateway';
import { REFUSALS_LOGGED_PER_MINUTE } from '../../server/src/messaging/limits';
import { cli, tempDir } from '../helpers/cli';
import { ManualClock } from '../helpers/clock';
import { sendBody } from '../helpers/gateway';

const OPERATOR = 'operator-token-for-refusal-tests';
const OVER = 7;
let dir: string;
beforeEach(() => {
	dir = tempDir('wg-refused-');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('keys list and /metrics show the refusals counted instead of logged', async () => {
	const clock = new ManualClock();
	const gateway = new Gateway({ databasePath: path.join(dir, 'gateway.db'), clock, adminToken: OPERATOR });
	const account = gateway.accounts.create({ name: 'Flooder' });
	const { key, info } = gateway.accounts.createKey(account.id, 'flooding');
	const quiet = gateway.accounts.createKey(account.id, 'quiet').info;
	const agent = request(gateway.createApp().callback());
	try {
		for (let sent = 0; sent < REFUSALS_LOGGED_PER_MINUTE + OVER; sent += 1) {
			const answer = await agent
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' })
				.send(JSON.stringify(sendBody({ instance_id: 'no-such-line' })));
			expect(answer.body.error).toBe('invalid_instance');
		}
		gateway.flushWrites();
		const metrics = await agent.get('/metrics').set('Authorization', `Bearer ${OPERATOR}`);
		expect(metrics.text).toContain(`whatsapp_gateway_refused_attempts_total{code="invalid_instance"} ${OVER}`);
	} finally {
		gateway.close();
	}

	const listed = await cli(dir, 'keys', 'list', '--json');
	expect(listed.code).toBe(0);
	const rows = listed.json() as { id: number; refused_attempts: number; last_refused_attempt_at: string | null }[];
	expect(rows.find((row) => row.id === info.id)).toMatchObject({
		refused_attempts: OVER,
		last_refused_attempt_at: new Date(Math.floor(clock.now() / 60_000) * 60_000).toISOString(),
	});
	expect(rows.find((row) => row.id === quiet.id)).toMatchObject({ refused_attempts: 0, last_refused_attempt_at: null });
	const human = await cli(dir, 'keys', 'list');
	expect(human.stdout.split('\n')[0]).toContain('refused_attempts');
});
