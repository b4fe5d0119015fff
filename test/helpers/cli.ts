import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../server/src/cli/program';

export interface CliRun {
	code: number;
	stdout: string;
	stderr: string;
	json: () => unknown;
}

/** Runs the CLI in-process against a data folder, capturing what it prints. */
export async function cli(dataDir: string, ...argv: string[]): Promise<CliRun> {
	let stdout = '';
	let stderr = '';
	const { code } = await runCli(argv, {
		stdout: (text) => (stdout += text),
		stderr: (text) => (stderr += text),
		env: { GATEWAY_DATA_DIR: dataDir },
		cwd: os.tmpdir(),
	});
	return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

export function tempDir(prefix = 'wg-test-'): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
