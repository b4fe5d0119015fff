import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { AccountInput } from '../../server/src/accounts/service';
import { Gateway } from '../../server/src/gateway';
import type { GatewayOptions } from '../../server/src/gateway-options';
import { SandboxProvider, type SandboxOptions } from '../../server/src/providers/sandbox';
import { ManualClock } from './clock';

/** A recipient number that is possible in libphonenumber (Saudi mobile), for the seed's "+9665XXXXXXX". */
export const PHONE = '+966501234567';

export interface TestGateway {
	gateway: Gateway;
	clock: ManualClock;
	sandbox: SandboxProvider;
	accountId: number;
	apiKey: string;
	instanceId: string;
	/** supertest against the real Koa stack, no socket left open. */
	http: ReturnType<typeof request>;
	send(body: unknown, headers?: Record<string, string>): request.Test;
	close(): void;
}

/**
 * A gateway on an in-memory database with a fixed clock, one account (Starter unless changed), the
 * `demo-support-line` sandbox instance and one API key.
 */
export function createTestGateway(
	options: {
		account?: AccountInput;
		sandbox?: SandboxOptions;
		clock?: ManualClock;
		adminToken?: string;
		media?: GatewayOptions['media'];
	} = {},
): TestGateway {
	const clock = options.clock ?? new ManualClock();
	const sandbox = new SandboxProvider(options.sandbox);
	const gateway = new Gateway({
		databasePath: ':memory:',
		clock,
		sandbox,
		adminToken: options.adminToken,
		media: options.media,
	});
	const account = gateway.accounts.create({ name: 'Test account', ...options.account });
	const instance = gateway.instances.create({
		accountId: account.id,
		name: 'demo-support-line',
		displayName: 'Demo Support Line',
		provider: 'sandbox',
		connectionState: 'connected',
	});
	const { key } = gateway.accounts.createKey(account.id, 'test');
	const app = gateway.createApp();
	const agent = request(app.callback());
	return {
		gateway,
		clock,
		sandbox,
		accountId: account.id,
		apiKey: key,
		instanceId: instance.id,
		http: agent,
		send: (body, headers = {}) =>
			agent
				.post('/api/send-message')
				.set({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers })
				.send(typeof body === 'string' ? body : JSON.stringify(body)),
		close: () => gateway.close(),
	};
}

export function sendBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		instance_id: 'demo-support-line',
		phone: PHONE,
		message: 'Your order #2041 has been shipped.',
		message_purpose: 'transactional',
		...overrides,
	};
}

/** Listens on a loopback port; for tests that need real concurrent connections. */
export async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
	const server = http.createServer(handler);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
