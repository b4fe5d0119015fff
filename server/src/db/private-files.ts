import fs from 'node:fs';
import path from 'node:path';

/**
 * The data folder holds webhook signing secrets, message texts and phone numbers: it is created 0700 and
 * every database file in it is 0600, whatever the umask (an explicit chmod, since the umask only narrows);
 * so are the copies of the database (`backup`, the automatic copies before migrations, a restored file).
 */
const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** SQLite's companion files; it creates them with the database file's mode, and they are chmod-ed too. */
export const DATABASE_SIDECARS = ['-wal', '-shm', '-journal'];

/** Creates the folder (and missing parents) 0700; an existing folder is left as the operator made it. */
export function ensurePrivateDir(dir: string): void {
	if (fs.existsSync(dir)) return;
	const created = fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
	if (created === undefined) return;
	// mkdir's mode is narrowed by the umask: every folder this call created is set to 0700 exactly.
	const top = path.resolve(created);
	for (let current = path.resolve(dir); ; current = path.dirname(current)) {
		fs.chmodSync(current, PRIVATE_DIR_MODE);
		if (current === top || current === path.dirname(current)) break;
	}
}

/** Creates the file if needed and makes it 0600 (existing files included: older installs made them 0644). */
export function ensurePrivateFile(file: string): void {
	fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
	fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** A warning for the start-up log when an existing data folder is open to other users, else undefined. */
export function dataDirExposure(dir: string): string | undefined {
	const mode = fs.statSync(dir).mode & 0o777;
	if ((mode & 0o077) === 0) return undefined;
	return `the data folder ${dir} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); it holds webhook signing secrets and messages: chmod 700 it`;
}
