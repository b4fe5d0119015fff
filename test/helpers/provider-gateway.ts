import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_TYPES } from '../../server/src/events/catalog';
import { Gateway } from '../../server/src/gateway';
import type { Logger } from '../../server/src/logger';
import type { ProviderOptions } from '../../server/src/providers/defaults';
import { ManualClock } from './clock';

export const OPERATOR_TOKEN = 'operator-token-for-provider-tests-0123456789';

export interface ProviderGateway {
	gateway: Gateway;
	clock: ManualClock;
	/** The gateway on loopback: providers post their webhooks here, tests send here. */
	url: string;
	accountId: number;
	apiKey: string;
	/** POST /api/send-message over real HTTP. */
	send(
		body: Record<string, unknown>,
		headers?: Record<string, string>,
	): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
	/** Operator API call over real HTTP. */
	operator(
		method: string,
		path: string,
		body?: unknown,
	): Promise<{ status: number; body: Record<string, unknown>; type: string | null; raw: ArrayBuffer }>;
	/** The events recorded for the subscriber (every type), in order: type and payload. */
	events(instanceId?: string): { type: string; payload: Record<string, unknown> }[];
	close(): Promise<void>;
}

/**
 * A gateway listening on loopback (providers reach it over real HTTP, as in production), on an in-memory
 * database with a manual clock, one account with generous limits, one API key, and one webhook
 * subscription to every event type so each recorded event can be read back.
 */
export async function startProviderGateway(
	providers: Partial<Omit<ProviderOptions, 'publicUrl'>> = {},
	logger?: Logger,
): Promise<ProviderGateway> {
	let handler: http.RequestListener = (_req, res) => res.end();
	const server = http.createServer((req, res) => handler(req, res));
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const clock = new ManualClock();
	const gateway = new Gateway({
		databasePath: ':memory:',
		clock,
		logger,
		adminToken: OPERATOR_TOKEN,
		providers: { ...providers, publicUrl: url },
	});
	handler = gateway.createApp().callback();
	const account = gateway.accounts.create({
		name: 'Provider tests',
		dailyLimit: 10_000,
		monthlyLimit: 100_000,
		instanceRatePerMinute: 6000,
		recipientRatePerMinute: 600,
	});
	const { key } = gateway.accounts.createKey(account.id, 'test');
	await gateway.webhooks.create({
		accountId: account.id,
		destinationUrl: 'http://127.0.0.1:9/hook',
		events: [...EVENT_TYPES],
	});

	const json = async (answer: Response) => {
		const raw = await answer.arrayBuffer();
		let body: Record<string, unknown> = {};
		try {
			body = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
		} catch {
			body = {};
		}
		return { status: answer.status, body, raw, headers: answer.headers, type: answer.headers.get('content-type') };
	};
	return {
		gateway,
		clock,
		url,
		accountId: account.id,
		apiKey: key,
		send: async (body, headers = {}) =>
			json(
				await fetch(`${url}/api/send-message`, {
					method: 'POST',
					headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
					body: JSON.stringify(body),
				}),
			),
		operator: async (method, path, body) =>
			json(
				await fetch(`${url}${path}`, {
					method,
					headers: {
						Authorization: `Bearer ${OPERATOR_TOKEN}`,
						...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
					},
					body: body === undefined ? undefined : JSON.stringify(body),
				}),
			),
		events: (instanceId) =>
			(
				gateway.db.prepare('SELECT type, payload, instance_id FROM events ORDER BY rowid').all() as {
					type: string;
					payload: string;
					instance_id: string;
				}[]
			)
				.filter((row) => instanceId === undefined || row.instance_id === instanceId)
				.map((row) => ({ type: row.type, payload: JSON.parse(row.payload) as Record<string, unknown> })),
		close: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
			gateway.close();
		},
	};
}
