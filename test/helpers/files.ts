import fs from 'node:fs';

/** A file's permission bits in octal, e.g. "600". */
export const fileMode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

/**
 * Runs each test of the enclosing describe with umask 000 (restored after), so that every file the code
 * under test creates is 0666 and every folder 0777 unless it makes them private itself.
 */
export function withOpenUmask(): void {
	let umask: number;
	beforeEach(() => {
		umask = process.umask(0);
	});
	afterEach(() => {
		process.umask(umask);
	});
}
