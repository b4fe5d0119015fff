'use strict';
// Preloaded with `node --require` by a test: when the process exits, writes the names of the packages it
// loaded (from require's cache) to the file named by LOADED_PACKAGES_FILE, one per line.
const fs = require('node:fs');

process.on('exit', () => {
	const names = new Set();
	for (const file of Object.keys(require.cache)) {
		const at = file.lastIndexOf('/node_modules/');
		if (at === -1) continue;
		const parts = file.slice(at + '/node_modules/'.length).split('/');
		names.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
	}
	fs.writeFileSync(process.env.LOADED_PACKAGES_FILE, [...names].sort().join('\n'));
});
