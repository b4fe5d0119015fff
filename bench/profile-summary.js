'use strict';

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, BENCH_CPU_PROF=1): where the gateway child's
 * time went, by area (gateway code, each package, Node internals, GC, idle), by function (self time), and
 * the inclusive time of the send path's own functions. The sampler ticks on wall-clock time, so time
 * blocked inside a synchronous call (an SQLite commit waiting for fsync) is charged to that call.
 *
 * Also usable by hand: node bench/profile-summary.js bench/profiles/<file>.cpuprofile
 */

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function shortUrl(url) {
	if (!url) return '';
	let file = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
	if (file.startsWith(ROOT)) file = path.relative(ROOT, file);
	return file;
}

/** The gateway's own code: its build, and the shared contract it loads (signature, event names). */
const isGatewayCode = (url) => url.includes('server/dist/') || url.includes('contract/dist/');

function areaOf(frame) {
	const name = frame.functionName;
	if (name === '(idle)') return '(idle)';
	if (name === '(garbage collector)') return '(garbage collector)';
	if (name === '(program)') return '(program: native, outside JS)';
	if (name === '(root)') return '(root)';
	const url = shortUrl(frame.url);
	if (url === '') return '(native / builtin)';
	if (url.startsWith('node:')) return 'node internals';
	const nm = url.lastIndexOf('node_modules/');
	if (nm >= 0) {
		const rest = url.slice(nm + 'node_modules/'.length).split('/');
		return `pkg ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
	}
	if (isGatewayCode(url)) return 'gateway (server/dist)';
	if (url.startsWith('bench/')) return 'bench harness';
	return url;
}

function frameKey(frame) {
	return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function summarize(file, { top = 25 } = {}) {
	const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
	const byId = new Map();
	const parent = new Map();
	for (const node of profile.nodes) {
		byId.set(node.id, node);
		for (const child of node.children || []) parent.set(child, node.id);
	}

	const self = new Map();
	const areas = new Map();
	const inclusive = new Map();
	let total = 0;
	let busy = 0;
	const { samples, timeDeltas } = profile;
	for (let i = 0; i < samples.length; i++) {
		// timeDeltas[i] is the time before sample i; charging it to the next sample is the usual convention.
		const dt = (timeDeltas[i + 1] ?? 0) / 1000; // ms
		const node = byId.get(samples[i]);
		if (!node) continue;
		total += dt;
		const area = areaOf(node.callFrame);
		areas.set(area, (areas.get(area) || 0) + dt);
		if (area === '(idle)') continue;
		busy += dt;
		const key = frameKey(node.callFrame);
		self.set(key, (self.get(key) || 0) + dt);
		const seen = new Set();
		for (let id = node.id; id !== undefined; id = parent.get(id)) {
			const frame = byId.get(id).callFrame;
			if (!isGatewayCode(shortUrl(frame.url))) continue;
			const k = frameKey(frame);
			if (seen.has(k)) continue;
			seen.add(k);
			inclusive.set(k, (inclusive.get(k) || 0) + dt);
		}
	}

	const pct = (ms, of) => `${((ms / of) * 100).toFixed(1).padStart(5)}%`;
	const ms = (v) => `${v.toFixed(0).padStart(7)} ms`;
	const lines = [`CPU profile of the gateway child: ${path.relative(process.cwd(), file)}`];
	lines.push(
		`  ${total.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle (percentages below are of the not-idle time)`,
	);
	lines.push('  By area (self time):');
	for (const [area, v] of [...areas].sort((a, b) => b[1] - a[1])) {
		if (area === '(idle)') lines.push(`    ${ms(v)}         ${area}`);
		else lines.push(`    ${ms(v)} ${pct(v, busy)}  ${area}`);
	}
	lines.push(`  Top ${top} functions by self time:`);
	for (const [key, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
		lines.push(`    ${ms(v)} ${pct(v, busy)}  ${key}`);
	}
	lines.push(`  Gateway functions by inclusive time (top ${top}):`);
	for (const [key, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
		lines.push(`    ${ms(v)} ${pct(v, busy)}  ${key}`);
	}
	return lines.join('\n');
}

module.exports = { summarize };

if (require.main === module) {
	const file = process.argv[2];
	if (!file) {
		console.error('usage: node bench/profile-summary.js <file.cpuprofile>');
		process.exit(2);
	}
	console.log(summarize(file, { top: Number(process.argv[3]) || 25 }));
}
