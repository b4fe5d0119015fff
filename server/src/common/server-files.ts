import fs from 'node:fs';
import path from 'node:path';

/**
 * A folder of `server/` that ships beside the code (`migrations`, `assets`), found by walking up from
 * this file: the same from the source tree (tests) and from the build output (`server/dist/…`).
 */
export function serverFolder(name: string): string {
	let dir = __dirname;
	for (;;) {
		const candidate = path.join(dir, name);
		if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
		const parent = path.dirname(dir);
		if (parent === dir) throw new Error(`server/${name} not found`);
		dir = parent;
	}
}

/**
 * A folder at the repository's root, beside `server/` (`docs`): the gateway runs from its clone, so the
 * README's reference pages are read where they are, from the source tree and from the build output alike.
 */
export function repositoryFolder(name: string): string {
	const candidate = path.resolve(serverFolder('migrations'), '../..', name);
	if (!fs.existsSync(candidate)) throw new Error(`${name}/ not found beside server/`);
	return candidate;
}
