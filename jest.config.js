/** All tests live in test/; TypeScript runs through ts-jest (type errors are caught by `npm run typecheck`). */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// The gateway imports the shared contract by its package name: the tests run it from contract/src too.
	moduleNameMapper: { '^whatsapp-gateway-contract$': '<rootDir>/contract/src/index.ts' },
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: false }],
	},
	// n8n-core under jest: its settings folder and log level, and no SSH manager timer (test/setup/).
	setupFiles: ['<rootDir>/test/setup/n8n-env.ts'],
	setupFilesAfterEnv: ['<rootDir>/test/setup/n8n-container.ts'],
	testTimeout: 30000,
	reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
