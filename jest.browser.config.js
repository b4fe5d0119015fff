/**
 * The browser tests (test/browser/*.browser.ts): a real gateway on a loopback port, Debian's Chromium
 * driven by playwright-core. Run by `npm run test:browser` (which installs Chromium when missing), not by `npm test`.
 */
const base = require('./jest.config.js');

module.exports = {
	...base,
	roots: ['<rootDir>/test/browser'],
	testMatch: ['**/*.browser.ts'],
	setupFiles: [],
	setupFilesAfterEnv: [],
	testTimeout: 60000,
	// One browser at a time: two cores are shared with the gateway under test.
	maxWorkers: 1,
};
