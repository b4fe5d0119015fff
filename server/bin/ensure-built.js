#!/usr/bin/env node
// `npm start` runs this first: it compiles the gateway only when its build is missing or older than a source
// file (server/src, server/tsconfig.json, and contract/, the shared contract the gateway imports and
// `tsc -b` builds first), so a production start does not pay for the TypeScript compiler. `npm ci` builds
// once already (the prepare script).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const server = path.resolve(__dirname, '..');
const contract = path.join(server, '..', 'contract');
const stamp = path.join(server, 'dist', '.tsbuildinfo');
// Both builds must be there: server/dist requires the contract's (node_modules/whatsapp-gateway-contract → contract/).
const entries = [path.join(server, 'dist', 'cli', 'main.js'), path.join(contract, 'dist', 'index.js')];
const sources = [
	path.join(server, 'src'),
	path.join(server, 'tsconfig.json'),
	path.join(contract, 'src'),
	path.join(contract, 'tsconfig.json'),
];

function newest(target) {
	if (!fs.existsSync(target)) return 0;
	const stat = fs.statSync(target);
	if (!stat.isDirectory()) return stat.mtimeMs;
	let latest = 0;
	for (const name of fs.readdirSync(target)) latest = Math.max(latest, newest(path.join(target, name)));
	return latest;
}

const builtAt = entries.every((file) => fs.existsSync(file)) && fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newest));
if (builtAt >= changedAt) process.exit(0);

let tsc;
try {
	tsc = require.resolve('typescript/bin/tsc', { paths: [server] });
} catch {
	process.stderr.write(
		'whatsapp-gateway: the build in server/dist is missing or older than the sources, and TypeScript is not installed to rebuild it.\n' +
			'Run `npm ci -w server` (or `npm ci`) in the repository, which installs TypeScript and builds the gateway.\n',
	);
	process.exit(1);
}
process.stderr.write('whatsapp-gateway: sources changed since the last build; compiling server/ (once)\n');
execFileSync(process.execPath, [tsc, '-b', path.join(server, 'tsconfig.json')], { stdio: 'inherit' });
// tsc -b leaves the stamp alone when nothing it tracks changed (say, only a file's time moved): touch it.
const now = new Date();
fs.utimesSync(stamp, now, now);
