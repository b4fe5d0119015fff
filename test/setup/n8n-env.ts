/**
 * Runs before any test file is loaded (jest `setupFiles`), because n8n-core reads these when its
 * services are first built:
 *
 * - `N8N_USER_FOLDER`: n8n-core's InstanceSettings writes `<folder>/.n8n/config` (with a random
 *   encryption key) the first time a node context is built; without it that lands in `$HOME`. Each
 *   test file gets its own temporary folder, removed again by `n8n-container.ts`.
 * - `N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=false`: no "Permissions 0644 … too wide" warning for it.
 * - `N8N_LOG_LEVEL=silent`: n8n's logger stays quiet about node errors the tests provoke on purpose.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.env.N8N_USER_FOLDER === undefined) {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'n8n-test-'));
	process.env.N8N_TEST_OWNS_USER_FOLDER = 'true';
}
process.env.N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS ??= 'false';
process.env.N8N_LOG_LEVEL ??= 'silent';
