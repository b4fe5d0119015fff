#!/usr/bin/env node
// Fails when server/src has an import cycle, between files (madge) or between areas (the folders of
// server/src: data flows one way, docs/architecture.md "Layers", so no two areas may import each other,
// even through a third).
// Type-only imports count too: a cycle of types is still two areas that cannot be read apart.
// Part of `npm run lint`.
const path = require('node:path');
const madge = require('madge');

const root = path.join(__dirname, '..');
const source = path.join(root, 'server', 'src');

/** "events/inbound.ts" → "events"; a file directly in src/ is its own node ("gateway.ts"). */
const areaOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);

function findCycles(graph) {
	const cycles = [];
	const state = new Map();
	const stack = [];
	const visit = (node) => {
		state.set(node, 'open');
		stack.push(node);
		for (const next of graph.get(node) ?? []) {
			if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
			else if (!state.has(next)) visit(next);
		}
		stack.pop();
		state.set(node, 'done');
	};
	for (const node of graph.keys()) if (!state.has(node)) visit(node);
	return cycles;
}

madge(source, {
	fileExtensions: ['ts'],
	tsConfig: path.join(root, 'server', 'tsconfig.json'),
	detectiveOptions: { ts: { skipTypeImports: false } },
})
	.then((result) => {
		const files = result.obj();
		const fileCycles = result.circular();
		const areas = new Map();
		for (const [file, imports] of Object.entries(files)) {
			const from = areaOf(file);
			if (!areas.has(from)) areas.set(from, new Set());
			for (const target of imports) {
				if (target.startsWith('..')) continue; // outside server/src
				const to = areaOf(target);
				if (to !== from) areas.get(from).add(to);
			}
		}
		const areaCycles = findCycles(areas);
		for (const cycle of fileCycles) console.error(`import cycle between files: ${[...cycle, cycle[0]].join(' -> ')}`);
		for (const cycle of areaCycles) console.error(`import cycle between areas: ${cycle.join(' -> ')}`);
		if (fileCycles.length + areaCycles.length > 0) process.exit(1);
		console.log(`no import cycles in server/src (${Object.keys(files).length} files, ${areas.size} areas)`);
	})
	.catch((error) => {
		console.error(error);
		process.exit(2);
	});
