// Lint layout:
// - every .ts file: @eslint/js + typescript-eslint recommended;
// - nodes/, credentials/ and the root package.json: n8n's community rules in their cloud form
//   (the set n8n's verification scanner applies) plus the eslint-plugin-n8n-nodes-base rule sets,
//   with the same rule offs as @n8n/node-cli; contract/src too (n8n's rules only), since the root build
//   compiles it into the published package;
// - server/ and test/ (the self-hosted gateway and its tests) get no n8n rules: they use koa,
//   process.env and timers by design and are never published;
// - plain JavaScript (bench/, gulpfile.js, jest.config.js, test/helpers/*.js, this file):
//   @eslint/js recommended with Node globals; server/assets/*.js (the pages' script) with browser globals.
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import { defineConfig, globalIgnores } from 'eslint/config';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const n8nCloud = n8nCommunityNodesPlugin.configs.recommended;

const allowUnderscoreUnused = {
	'@typescript-eslint/no-unused-vars': [
		'error',
		{
			argsIgnorePattern: '^_',
			varsIgnorePattern: '^_',
			destructuredArrayIgnorePattern: '^_',
			caughtErrorsIgnorePattern: '^_',
		},
	],
};

export default defineConfig(
	globalIgnores([
		'dist/**',
		'server/dist/**',
		'contract/dist/**',
		'**/node_modules/**',
		'bench/profiles/**',
		'coverage/**',
		'.cache/**',
	]),

	{
		files: ['**/*.ts'],
		extends: [js.configs.recommended, tseslint.configs.recommended],
	},

	{
		files: ['server/**/*.ts', 'test/**/*.ts'],
		rules: allowUnderscoreUnused,
	},

	{
		// Size is a prompt to split along a seam (docs/contributing.md), so these warn rather than fail.
		// Product code only: a test file is a list of cases and a describe block is as long as its cases.
		files: ['server/src/**/*.ts', 'contract/src/**/*.ts', 'nodes/**/*.ts', 'credentials/**/*.ts'],
		rules: {
			'max-lines': ['warn', { max: 300, skipBlankLines: true }],
			'max-lines-per-function': ['warn', { max: 60, skipBlankLines: true }],
		},
	},

	{
		files: ['**/*.js', '**/*.cjs'],
		extends: [js.configs.recommended],
		languageOptions: {
			sourceType: 'commonjs',
			globals: { ...globals.node },
		},
		rules: {
			'no-unused-vars': [
				'error',
				{
					argsIgnorePattern: '^_',
					varsIgnorePattern: '^_',
					destructuredArrayIgnorePattern: '^_',
					caughtErrorsIgnorePattern: '^_',
				},
			],
		},
	},

	{
		// The pages' script runs in the browser (served from /assets/).
		files: ['server/assets/**/*.js'],
		languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
	},

	{
		files: ['**/*.mjs'],
		extends: [js.configs.recommended],
		languageOptions: { sourceType: 'module', globals: { ...globals.node } },
	},

	{
		files: ['nodes/**/*.ts', 'credentials/**/*.ts', 'contract/src/**/*.ts'],
		extends: [n8nCloud],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { 'no-console': 'error' },
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// Same two offs as @n8n/node-cli and the verification scanner.
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
		},
	},
	{
		files: ['nodes/**/*.ts'],
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// Same three offs as @n8n/node-cli and the verification scanner.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
			'n8n-nodes-base/node-param-type-options-max-value-present': 'off',
		},
	},
	{
		files: ['package.json'],
		extends: [n8nCloud],
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		languageOptions: {
			parser: tseslint.parser,
			parserOptions: { extraFileExtensions: ['.json'] },
		},
		rules: {
			...n8nNodesBase.configs.community.rules,
		},
	},
);
