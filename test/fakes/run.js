#!/usr/bin/env node
'use strict';

/**
 * Runs a provider fake on its own, to try the gateway by hand without a WhatsApp account
 * (docs/connect-whatsapp.md, "Try it first against the fake", in both provider sections):
 *
 *   node test/fakes/run.js evolution [port=8080] [apikey=fake-evolution-key]
 *   node test/fakes/run.js graph [port=8081] [phoneNumberId=106540352242922] [accessToken=fake-cloud-token]
 *
 * The fakes are the TypeScript modules the contract tests use, compiled here on the fly with the
 * project's own TypeScript (a dev dependency), so what you try is what the tests check.
 */

const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
	const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
		compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
		fileName: filename,
	}).outputText;
	module._compile(output, filename);
};

const [kind, ...args] = process.argv.slice(2);
const options = Object.fromEntries(args.map((arg) => arg.split('=')));

async function main() {
	if (kind === 'evolution') {
		const { EvolutionApiFake } = require('./evolution-api.ts');
		const apikey = options.apikey || 'fake-evolution-key';
		const fake = await new EvolutionApiFake({ globalKey: apikey }).start(Number(options.port || 8080));
		console.log(`fake Evolution API v2 on ${fake.url} (global apikey: ${apikey})`);
		console.log(`  scan the QR code:      curl -X POST ${fake.url}/_fake/scan/<evolution instance name>`);
		console.log(
			`  someone writes to it:  curl -X POST ${fake.url}/_fake/message/<name> -H 'Content-Type: application/json' -d '{"from":"+966501234567","text":"Hello"}'`,
		);
		fake.requests.push = function push(...items) {
			for (const item of items) console.log(`  <- ${item.method} ${item.path}`);
			return Array.prototype.push.apply(this, items);
		};
	} else if (kind === 'graph') {
		const { GraphApiFake } = require('./graph-api.ts');
		const phoneNumberId = options.phoneNumberId || '106540352242922';
		const accessToken = options.accessToken || 'fake-cloud-token';
		const fake = await new GraphApiFake({ phoneNumberId, accessToken }).start(Number(options.port || 8081));
		console.log(`fake Graph API on ${fake.graphUrl} (phone number id ${phoneNumberId}, access token ${accessToken})`);
		fake.requests.push = function push(...items) {
			for (const item of items) console.log(`  <- ${item.method} ${item.path}`);
			return Array.prototype.push.apply(this, items);
		};
	} else {
		console.error('usage: node test/fakes/run.js evolution|graph [port=…] [apikey=…|phoneNumberId=… accessToken=…]');
		process.exit(2);
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
