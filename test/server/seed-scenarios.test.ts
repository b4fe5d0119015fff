import postman from '../fixtures/seed-000-postman-collection.json';
import seedErrors from '../fixtures/seed-002-error-table.json';
import { ERROR_TABLE, type ErrorCode } from '../../server/src/http/errors';
import { createTestGateway, PHONE, type TestGateway } from '../helpers/gateway';

interface PostmanItem {
	name: string;
	item?: PostmanItem[];
	description?: string;
	request?: {
		method: string;
		header?: { key: string; value: string }[];
		body?: { raw?: string };
		url: string | { raw: string };
		description?: string;
	};
}

const folder = (name: string) => (postman.item as PostmanItem[]).find((item) => item.name === name)?.item ?? [];

/** Postman variables, with the seed's placeholder phone replaced by a possible number. */
function substitute(text: string, t: TestGateway, apiKeyOverride?: string): string {
	const vars: Record<string, string> = {
		api_key: apiKeyOverride ?? t.apiKey,
		instance_id: 'demo-support-line',
		phone: PHONE,
	};
	return text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => vars[name] ?? `{{${name}}}`);
}

async function sendPostmanItem(t: TestGateway, item: PostmanItem) {
	const req = item.request!;
	const url = typeof req.url === 'string' ? req.url : req.url.raw;
	expect(url).toBe('{{base_url}}/api/send-message');
	let call = t.http.post('/api/send-message');
	for (const header of req.header ?? []) call = call.set(header.key, substitute(header.value, t));
	return call.send(substitute(req.body?.raw ?? '', t));
}

describe('seed 002 error table', () => {
	it('is reproduced exactly: every code, HTTP status and message text', () => {
		expect(seedErrors.errors).toHaveLength(18);
		for (const row of seedErrors.errors) {
			const entry = ERROR_TABLE[row.error as ErrorCode];
			expect({ code: row.error, status: entry?.status, message: entry?.message }).toEqual({
				code: row.error,
				status: row.http,
				message: row.message,
			});
		}
	});
});

describe('Postman collection: Send Message happy paths', () => {
	const items = folder('Send Message');
	it('has the three seed examples', () => expect(items.map((item) => item.name)).toHaveLength(3));

	it.each(items.map((item) => [item.name, item] as const))(
		'%s → 200 with success, status, message_id, log_id',
		async (_name, item) => {
			const t = createTestGateway();
			try {
				const res = await sendPostmanItem(t, item);
				expect(res.status).toBe(200);
				expect(res.body).toEqual({
					success: true,
					status: 'sent',
					message_id: expect.stringMatching(/^sandbox\./),
					log_id: expect.any(Number),
				});
				const logged = await t.http.get(`/api/messages/${res.body.log_id}`).set('Authorization', `Bearer ${t.apiKey}`);
				expect(logged.body.message).toMatchObject({ status: 'sent', phone: PHONE, message_id: res.body.message_id });
			} finally {
				t.close();
			}
		},
	);
});

describe('Postman collection: Error Scenarios', () => {
	const items = folder('Error Scenarios');
	/** Account state each scenario's description says it depends on. */
	const arrange: Record<string, (t: TestGateway) => void> = {
		'Module not enabled example': (t) => t.gateway.accounts.update(t.accountId, { apiAccess: false }),
		'Suppressed recipient example': (t) => t.gateway.suppressions.add(t.accountId, PHONE, 'opted out', 'manual'),
	};

	it('names its expected error in every description', () => {
		expect(items.length).toBe(6);
		for (const item of items) expect(item.request?.description ?? item.description).toMatch(/Expected error: (\w+)/);
	});

	it.each(items.map((item) => [item.name, item] as const))('%s', async (name, item) => {
		const expected = /Expected error: (\w+)/.exec(item.request?.description ?? item.description ?? '')![1] as ErrorCode;
		const t = createTestGateway();
		try {
			arrange[name]?.(t);
			const res = await sendPostmanItem(t, item);
			expect(res.status).toBe(ERROR_TABLE[expected].status);
			expect(res.body).toEqual({
				success: false,
				error: expected,
				message: ERROR_TABLE[expected].message,
				details: expect.any(Object),
			});
		} finally {
			t.close();
		}
	});
});
