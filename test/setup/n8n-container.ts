/**
 * Runs in every test file after the framework is installed (jest `setupFilesAfterEnv`).
 *
 * Every n8n-core node context asks `@n8n/di` for the SSHClientsManager, whose constructor starts a
 * 60 s `setInterval` and adds a `process.on('exit')` listener: jest would never exit. The stub is put
 * in the container the moment n8n-core loads that module, keyed by the real class in the same
 * `@n8n/di` copy n8n-core uses; test files that never load n8n-core pay nothing for it.
 */
import { rmSync } from 'node:fs';

jest.mock('n8n-core/dist/execution-engine/ssh-clients-manager', () => {
	const actual = jest.requireActual<typeof import('n8n-core/dist/execution-engine/ssh-clients-manager')>(
		'n8n-core/dist/execution-engine/ssh-clients-manager',
	);
	const { Container } = jest.requireActual<typeof import('@n8n/di')>('@n8n/di');
	const stub = {
		getClient: async () => {
			throw new Error('SSH tunnels are not available in the tests');
		},
		updateLastUsed: () => undefined,
		onShutdown: () => undefined,
	};
	Container.set(actual.SSHClientsManager, stub as unknown as InstanceType<typeof actual.SSHClientsManager>);
	return actual;
});

afterAll(() => {
	if (process.env.N8N_TEST_OWNS_USER_FOLDER === 'true' && process.env.N8N_USER_FOLDER) {
		rmSync(process.env.N8N_USER_FOLDER, { recursive: true, force: true });
	}
});
