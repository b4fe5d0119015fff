import type { AccountInput } from '../../server/src/accounts/service';
import type { IntegrationInput } from '../../server/src/threecx/integrations';
import { computeSignature } from '../../contract/src/signature';
import { createTestGateway, type TestGateway } from './gateway';
import type { ManualClock } from './clock';

/** The 3CX fixtures' customer (reference-threecx-section5.json): a possible Saudi mobile number. */
export const CUSTOMER = '+966500000000';

export interface ThreecxTestGateway extends TestGateway {
	integrationId: number;
	secret: string;
	/** What reached the (sandbox) provider: the messages WhatsApp would carry. */
	providerSends: { to: string; text: string }[];
	/** POSTs a 3CX event (object or raw text) to the integration's webhook with its secret. */
	post(
		body: unknown,
		headers?: Record<string, string>,
		integrationId?: number,
	): ReturnType<TestGateway['http']['post']>;
	/** The customer writes to the instance on WhatsApp now (opens the conversation window). */
	customerWrites(phone?: string, text?: string): Promise<void>;
	/** The message log rows the 3CX endpoint wrote. */
	threecxLog(): { status: string; error_code: string | null; phone: string | null; message_text: string | null }[];
}

let inboundCount = 0;

/**
 * A test gateway (Saudi default country, UTC) with one 3CX integration on `demo-support-line`, business
 * name "Acme Support", every call-event template on (call_ended too), on the manual clock.
 */
export async function createThreecxGateway(
	options: { integration?: IntegrationInput; account?: AccountInput; clock?: ManualClock; adminToken?: string } = {},
): Promise<ThreecxTestGateway> {
	const t = createTestGateway({
		account: { defaultCountry: 'SA', ...options.account },
		clock: options.clock,
		adminToken: options.adminToken,
	});
	t.clock.set('2026-09-15T10:30:00Z');
	const { integration, secret } = await t.gateway.threecx.integrations.create(t.accountId, {
		instance: 'demo-support-line',
		businessName: 'Acme Support',
		templates: { call_ended: { enabled: true } },
		...options.integration,
	});
	const providerSends: { to: string; text: string }[] = [];
	t.sandbox.onSend((send) => providerSends.push({ to: send.to, text: send.text }));
	return {
		...t,
		providerSends,
		integrationId: integration.id,
		secret,
		post: (body, headers = {}, integrationId = integration.id) =>
			t.http
				.post(`/integrations/3cx/webhook/${integrationId}`)
				.set({ 'Content-Type': 'application/json', 'X-WhatsApp-Gateway-3CX-Secret': secret, ...headers })
				.send(typeof body === 'string' ? body : JSON.stringify(body)),
		customerWrites: async (phone = CUSTOMER, text = 'Hello, I called you') => {
			inboundCount += 1;
			await t.gateway.inbound.receiveMessage({
				instanceId: t.instanceId,
				providerMessageId: `wamid.3cx-${inboundCount}`,
				from: phone,
				text,
			});
		},
		threecxLog: () =>
			t.gateway.db
				.prepare("SELECT status, error_code, phone, message_text FROM message_log WHERE source = '3cx' ORDER BY id")
				.all() as { status: string; error_code: string | null; phone: string | null; message_text: string | null }[],
	};
}

/** The HMAC headers for a body, as the 3CX node (or a script) signs it. */
export function signedHeaders(hmacSecret: string, raw: string, timestamp: number): Record<string, string> {
	return {
		'X-WhatsApp-Gateway-Timestamp': String(timestamp),
		'X-WhatsApp-Gateway-Signature': computeSignature(hmacSecret, timestamp, raw),
	};
}
