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
