/** The dashboard's `/integrations/3cx` page: settings, templates with a live preview, secret rotation, test event. */
import { createThreecxGateway, type ThreecxTestGateway } from '../helpers/threecx';
import { ADMIN_TOKEN, signIn, type DashboardClient } from '../helpers/dashboard';

let t: ThreecxTestGateway;
let client: DashboardClient;
beforeEach(async () => {
	t = await createThreecxGateway({ adminToken: ADMIN_TOKEN });
	client = await signIn(t);
});
afterEach(() => t.close());

const page = () => `/integrations/3cx?account=${t.accountId}`;
const action = (rest: string) => `/integrations/3cx/${t.integrationId}${rest}?account=${t.accountId}`;
const follow = async (res: { status: number; headers: Record<string, string> }) => {
	expect(res.status).toBe(302);
	return client.get(res.headers.location);
};
/** The settings form as the page renders it, with some fields changed. */
const settings = (change: Record<string, string | undefined>) => {
	const fields: Record<string, string> = {
		name: '3CX',
		instance_id: t.instanceId,
		business_name: 'Acme Support',
		enabled: 'on',
		outbound_enabled: 'on',
		call_events_enabled: 'on',
		strict_window: 'on',
		window_hours: '24',
		hmac_secret: '',
		ip_allowlist: '',
		destination_url: '',
		destination_format: 'gateway',
		line_number: '',
	};
	for (const event of ['missed_call', 'voicemail', 'call_ended', 'queue_callback', 'after_hours']) {
		fields[`template_${event}_enabled`] = 'on';
		fields[`template_${event}_text`] = t.gateway.threecx.integrations.get(t.integrationId).templates[
			event as 'voicemail'
		].text;
	}
	for (const [name, value] of Object.entries(change)) {
		if (value === undefined) delete fields[name];
		else fields[name] = value;
	}
	return fields;
};

it('shows the integration, its endpoints and templates with their preview rendered by the server, escaping its name', async () => {
	await t.gateway.threecx.integrations.update(t.integrationId, { name: 'Main <PBX>' });
	const res = await client.get(page());
	expect(res.status).toBe(200);
	expect(res.text).toContain('Main &lt;PBX&gt;');
	expect(res.text).toContain(`/integrations/3cx/webhook/${t.integrationId}`);
	expect(res.text).toContain('Hello, this is Acme Support. Sorry we missed your call.');
	expect(res.text).not.toContain(t.secret);
});

it('saves the settings and templates the operator API takes, and refuses a bad one with the service’s reason', async () => {
	const saved = await follow(
		await client.post(
			action(''),
			settings({
				business_name: 'Acme Dental',
				call_events_enabled: undefined,
				template_voicemail_text: 'Hi from {{business_name}}, line {{queue}}',
			}),
		),
	);
	expect(saved.text).toContain('Saved 3CX.');
	const integration = t.gateway.threecx.integrations.get(t.integrationId);
	expect(integration).toMatchObject({ businessName: 'Acme Dental', callEventsEnabled: false, outboundEnabled: true });
	expect(integration.templates.voicemail.text).toBe('Hi from {{business_name}}, line {{queue}}');

	const bad = await follow(
		await client.post(action(''), settings({ template_missed_call_text: 'Hello {{customer_name}}' })),
	);
	expect(bad.text).toContain('Not saved:');
	expect(bad.text).toContain('customer_name');
	expect(t.gateway.threecx.integrations.get(t.integrationId).templates.missed_call.text).not.toContain('customer_name');
});

it('previews a template with the server’s template rule and names unknown variables', async () => {
	const res = await client.post(`/integrations/3cx/preview?account=${t.accountId}`, {
		text: 'Hi {{ business_name }}, queue {{queue}} at {{call_time}} {{nope}}',
		business_name: 'Acme <Dental>',
	});
	expect(res.status).toBe(200);
	expect(res.body).toEqual({
		preview: 'Hi Acme <Dental>, queue 800 at 2026-09-15 10:30 {{nope}}',
		unknown_variables: ['nope'],
	});
});

it('rotates the secret, showing the new one once; the old one stops working', async () => {
	const rotated = await follow(await client.post(action('/rotate-secret')));
	const secret = /<code id="shown-secret">(tcx_\w+)<\/code>/.exec(rotated.text)?.[1];
	expect(secret).toBeDefined();
	expect(secret).not.toBe(t.secret);
	expect((await t.post({ event_type: 'test' })).status).toBe(401);
	expect((await t.post({ event_type: 'test' }, { 'X-WhatsApp-Gateway-3CX-Secret': secret! })).status).toBe(200);
	expect((await client.get(page())).text).not.toContain(secret!);
});

it('sends a test event and shows the answer and the event in the recent events', async () => {
	const res = await follow(await client.post(action('/test-event')));
	expect(res.text).toContain('Test event: HTTP 200');
	expect(res.text).toMatch(/<td>test<\/td><td>[a-z_]+<\/td><td>received<\/td>/);
});

it('creates an integration with its secret shown once', async () => {
	const res = await follow(
		await client.post(`/integrations/3cx/new?account=${t.accountId}`, {
			name: 'Second PBX',
			instance_id: t.instanceId,
			business_name: 'Acme',
		}),
	);
	expect(res.text).toMatch(/<code id="shown-secret">tcx_\w+<\/code>/);
	expect(t.gateway.threecx.integrations.list(t.accountId).map((integration) => integration.name)).toEqual([
		'3CX',
		'Second PBX',
	]);
});

it('answers 404 for another account’s integration and shows none of it', async () => {
	const other = t.gateway.accounts.create({ name: 'Other account' });
	const res = await client.post(`/integrations/3cx/${t.integrationId}/rotate-secret?account=${other.id}`);
	expect(res.status).toBe(404);
	expect((await client.get(`/integrations/3cx?account=${other.id}`)).text).not.toContain(
		`/integrations/3cx/webhook/${t.integrationId}`,
	);
});

it('refuses every 3CX action without the CSRF token, changing nothing', async () => {
	for (const path of [
		action(''),
		action('/rotate-secret'),
		action('/test-event'),
		`/integrations/3cx/new?account=${t.accountId}`,
		`/integrations/3cx/preview?account=${t.accountId}`,
	]) {
		const res = await client.post(path, { ...settings({ business_name: 'Changed' }), _csrf: 'wrong' });
		expect([path, res.status]).toEqual([path, 403]);
	}
	expect(t.gateway.threecx.integrations.list(t.accountId)).toHaveLength(1);
	expect(t.gateway.threecx.integrations.get(t.integrationId).businessName).toBe('Acme Support');
	expect((await t.post({ event_type: 'test' })).status).toBe(200);
});
