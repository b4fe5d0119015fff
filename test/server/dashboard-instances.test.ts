/**
 * The dashboard's instance pages: `/instances` and `/instances/{id}/manage` with its connection,
 * webhook and test send tabs (the browser suite drives the same pages in Chromium).
 */
import { createTestGateway, PHONE, type TestGateway } from '../helpers/gateway';
import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';
import { EvolutionApiFake } from '../fakes/evolution-api';

let gw: TestGateway;
let client: DashboardClient;
/** What the sandbox provider accepted (sends that got past every guard). */
let sent: unknown[];
beforeEach(async () => {
	gw = createTestGateway({ adminToken: ADMIN_TOKEN });
	sent = [];
	gw.sandbox.onSend((send) => sent.push(send));
	client = await signIn(gw);
});
afterEach(() => gw.close());

const manage = (tab: string, id = gw.instanceId, account = gw.accountId) =>
	`/instances/${id}/manage?tab=${tab}&account=${account}`;
const action = (rest: string, id = gw.instanceId) => `/instances/${id}/${rest}?account=${gw.accountId}`;
/** The page the post/redirect/get lands on, with its one-time message. */
const follow = async (res: { status: number; headers: Record<string, string> }) => {
	expect(res.status).toBe(302);
	return client.get(res.headers.location);
};

describe('instances list', () => {
	it('lists the account’s instances with state and pause reason, escaping their names; not another account’s', async () => {
		gw.gateway.instances.update(gw.instanceId, { displayName: '<b>Front desk</b>' });
		gw.gateway.instances.pause(gw.instanceId, 'review <script>');
		const other = gw.gateway.accounts.create({ name: 'Other account' });
		gw.gateway.instances.create({
			accountId: other.id,
			name: 'elsewhere-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});

		const res = await client.get(`/instances?account=${gw.accountId}`);
		expect(res.status).toBe(200);
		expect(res.text).toContain('&lt;b&gt;Front desk&lt;/b&gt;');
		expect(res.text).toContain('review &lt;script&gt;');
		expect(res.text).toContain('<span class="badge ok" data-state-badge>connected</span>');
		expect(res.text).toContain(`/instances/${gw.instanceId}/manage?account=${gw.accountId}`);
		expect(res.text).not.toContain('elsewhere-line');
	});

	it('answers 404 pages for an unknown instance and for another account’s instance', async () => {
		expect((await client.get(manage('connection', 'nope'))).status).toBe(404);
		const other = gw.gateway.accounts.create({ name: 'Other account' });
		const res = await client.get(manage('connection', gw.instanceId, other.id));
		expect(res.status).toBe(404);
		expect(res.type).toBe('text/html');
		expect(res.text).toContain(`There is no instance ${gw.instanceId} in Other account.`);
	});
});

describe('connection tab', () => {
	it('pauses with a required reason and resumes; sends are refused while paused', async () => {
		const noReason = await follow(await client.post(action('pause'), { reason: '  ' }));
		expect(noReason.text).toContain('the reason is required');
		expect(gw.gateway.instances.get(gw.instanceId).paused).toBe(false);

		const paused = await follow(await client.post(action('pause'), { reason: 'customer complaint' }));
		expect(paused.text).toContain('customer complaint');
		expect(paused.text).toContain('Resume sending');
		const refused = await gw.send({
			instance_id: gw.instanceId,
			phone: PHONE,
			message: 'Your order shipped.',
			message_purpose: 'transactional',
		});
		expect(refused.body.error).toBe('instance_paused_for_review');

		await follow(await client.post(action('resume')));
		expect(gw.gateway.instances.get(gw.instanceId).paused).toBe(false);
	});

	it('connects an Evolution instance: the QR code is served to the session, and the state turns connected', async () => {
		const evolution = await new EvolutionApiFake({ globalKey: 'global-key' }).start();
		try {
			const instance = gw.gateway.instances.create({
				accountId: gw.accountId,
				name: 'evo-line',
				provider: 'evolution',
				connectionState: 'disconnected',
				providerSettings: { baseUrl: evolution.url, apiKey: 'global-key', instanceName: 'evo-line' },
			});
			const before = await client.get(manage('connection', instance.id));
			expect(before.text).toContain('>Connect</button>');
			expect((await client.get(action('qr.png', instance.id))).status).toBe(404);

			const connected = await follow(await client.post(action('connect', instance.id)));
			expect(connected.text).toContain('Scan the QR code');
			expect(connected.text).toContain(
				`data-connection-poll="/instances/${instance.id}/connection?account=${gw.accountId}"`,
			);
			const png = await client.get(action('qr.png', instance.id)).buffer(true);
			expect(png.status).toBe(200);
			expect(png.type).toBe('image/png');
			expect((png.body as Buffer).subarray(1, 4).toString()).toBe('PNG');
			expect((await gw.http.get(action('qr.png', instance.id))).status).toBe(302);

			expect((await client.get(action('connection', instance.id))).body.state).not.toBe('connected');
			// The phone scanned the code: Evolution now reports the instance open (its webhook is not reachable here).
			evolution.instances.get('evo-line')!.state = 'open';
			expect((await client.get(action('connection', instance.id))).body.state).toBe('connected');
			expect((await client.get(manage('connection', instance.id))).text).toContain(
				'<strong data-connection-state>Connected</strong>',
			);
		} finally {
			await evolution.stop();
		}
	});

	it('shows a Cloud instance the webhook URL to paste into Meta’s dashboard', async () => {
		const instance = gw.gateway.instances.create({
			accountId: gw.accountId,
			name: 'cloud-line',
			provider: 'cloud',
			connectionState: 'disconnected',
			providerSettings: { phoneNumberId: '106540352242922', accessToken: 'EAAG-token', appSecret: 'app-secret-value' },
		});
		const res = await client.get(manage('connection', instance.id));
		expect(res.text).toContain(`/providers/cloud/${instance.id}</code>`);
		expect(res.text).not.toContain('EAAG-token');
	});
});

describe('webhook tab', () => {
	it('shows the six event groups, subscribes with the secret shown once, rotates it, and deletes', async () => {
		const page = await client.get(manage('webhook'));
		for (const group of [
			'Recommended Events',
			'Instance Events',
			'Message Lifecycle Events',
			'Conversation Events',
			'Call Events',
			'Group Events',
		]) {
			expect(page.text).toContain(`<legend>${group}</legend>`);
		}
		const created = await follow(
			await client.post(action('webhooks'), {
				destination_url: 'http://127.0.0.1:9/in',
				events: ['message.received', 'call.missed'],
			}),
		);
		const [webhook] = gw.gateway.webhooks.list(gw.accountId);
		expect(webhook).toMatchObject({
			destinationUrl: 'http://127.0.0.1:9/in',
			events: ['message.received', 'call.missed'],
			instanceId: gw.instanceId,
		});
		const secret = /<code id="shown-secret">(whsec_\w+)<\/code>/.exec(created.text)?.[1];
		expect(secret).toBeDefined();
		expect(created.text).toContain(`data-webhook="${webhook.id}"`);
		expect((await client.get(manage('webhook'))).text).not.toContain(secret!);

		const refused = await follow(
			await client.post(action('webhooks'), { destination_url: 'ftp://x', events: 'message.received' }),
		);
		expect(refused.text).toContain('Not subscribed: destination_url');

		const rotated = await follow(await client.post(action(`webhooks/${webhook.id}/rotate-secret`)));
		const fresh = /<code id="shown-secret">(whsec_\w+)<\/code>/.exec(rotated.text)?.[1];
		expect(fresh).toBeDefined();
		expect(fresh).not.toBe(secret);
		const until = new Date(gw.clock.now() + 24 * 3600_000).toISOString();
		expect(rotated.text).toContain(`the previous one still signs until ${until}`);
		const after = (await client.get(manage('webhook'))).text;
		expect(after).toContain(`still signs beside the new one until ${until}`);
		expect(after).not.toContain(fresh!);

		await follow(await client.post(action(`webhooks/${webhook.id}/delete`)));
		expect(gw.gateway.webhooks.list(gw.accountId)).toEqual([]);
	});

	it('lists a delivery with status and attempts, and redelivers it; another account’s delivery is a 404', async () => {
		await client.post(action('webhooks'), { destination_url: 'http://127.0.0.1:9/in', events: 'message.sent' });
		const sent = await gw.send({
			instance_id: gw.instanceId,
			phone: PHONE,
			message: 'Your order shipped.',
			message_purpose: 'transactional',
		});
		expect(sent.status).toBe(200);
		const [delivery] = gw.gateway.webhooks.deliveries({ accountId: gw.accountId });
		expect(delivery).toBeDefined();
		const page = await client.get(manage('webhook'));
		expect(page.text).toContain(`<td class="num">${delivery.id}</td>`);
		expect(page.text).toContain(`deliveries/${delivery.id}/redeliver`);

		const again = await follow(await client.post(action(`deliveries/${delivery.id}/redeliver`)));
		expect(again.text).toContain(`Delivery ${delivery.id} is queued again`);

		const other = gw.gateway.accounts.create({ name: 'Other account' });
		const otherInstance = gw.gateway.instances.create({
			accountId: other.id,
			name: 'other-line',
			provider: 'sandbox',
			connectionState: 'connected',
		});
		const crossed = await client.post(
			`/instances/${otherInstance.id}/deliveries/${delivery.id}/redeliver?account=${other.id}`,
		);
		expect(crossed.status).toBe(404);
		expect(
			(await client.post('/instances/' + gw.instanceId + '/deliveries/999999/redeliver?account=' + gw.accountId))
				.status,
		).toBe(404);
	});
});

describe('test send tab', () => {
	const testSend = (fields: Record<string, string>) =>
		client.post(action('test-send'), {
			phone: PHONE,
			message: 'Your appointment is confirmed for 10:00.',
			message_purpose: 'transactional',
			...fields,
		});

	it('sends through the API’s guards and shows the log id and status', async () => {
		const res = await testSend({});
		expect(res.status).toBe(200);
		expect(res.text).toContain('HTTP 200');
		expect(res.text).toMatch(/&quot;status&quot;: &quot;sent&quot;/);
		const logId = /&quot;log_id&quot;: (\d+)/.exec(res.text)?.[1];
		expect(logId).toBeDefined();
		expect(sent).toHaveLength(1);
	});

	it('submitting the same form again (a reload) answers the first result and sends nothing more', async () => {
		const tab = await client.get(`/instances/${gw.instanceId}/manage?tab=test&account=${gw.accountId}`);
		const key = /name="idempotency_key" value="([^"]+)"/.exec(tab.text)![1];
		const first = await testSend({ idempotency_key: key });
		const again = await testSend({ idempotency_key: key });
		const logIdOf = (text: string) => /&quot;log_id&quot;: (\d+)/.exec(text)?.[1];
		expect(logIdOf(again.text)).toBe(logIdOf(first.text));
		expect(sent).toHaveLength(1);
		// The form shown with the result carries a new key: a deliberate second test is a new message.
		expect(/name="idempotency_key" value="([^"]+)"/.exec(again.text)![1]).not.toBe(key);
	});

	it('shows a refusal exactly as the API gives it: a suppressed recipient, a purpose not allowed', async () => {
		gw.gateway.suppressions.add(gw.accountId, PHONE, 'asked by phone', 'manual');
		const api = await gw.send({
			instance_id: gw.instanceId,
			phone: PHONE,
			message: 'Your appointment is confirmed for 10:00.',
			message_purpose: 'transactional',
		});
		const res = await testSend({});
		expect(res.text).toContain('HTTP 403');
		const shown = /<pre class="result">([\s\S]*?)<\/pre>/
			.exec(res.text)![1]
			.replace(/&quot;/g, '"')
			.replace(/&#39;/g, "'");
		expect(JSON.parse(shown)).toEqual(api.body);
		expect(api.body.error).toBe('recipient_suppressed');

		const purpose = await testSend({ message_purpose: 'marketing' });
		expect(purpose.text).toContain('message_purpose_not_allowed');
		expect(sent).toHaveLength(0);
	});
});

it('refuses every instance action without the CSRF token, changing nothing', async () => {
	const paths = [
		'connect',
		'pause',
		'resume',
		'webhooks',
		'webhooks/wh_x/delete',
		'webhooks/wh_x/rotate-secret',
		'deliveries/1/redeliver',
		'test-send',
	];
	for (const path of paths) {
		const res = await client.post(action(path), {
			_csrf: '',
			reason: 'x',
			destination_url: 'http://127.0.0.1:9/in',
			events: 'message.sent',
			phone: PHONE,
			message: 'hi',
			message_purpose: 'support',
		});
		expect([path, res.status]).toEqual([path, 403]);
	}
	expect(gw.gateway.instances.get(gw.instanceId).paused).toBe(false);
	expect(gw.gateway.webhooks.list(gw.accountId)).toEqual([]);
	expect(sent).toHaveLength(0);
});
