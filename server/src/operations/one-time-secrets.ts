import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_FILE_MODE } from '../db/private-files';

/** Where the first start's secrets go when stdout is not a terminal: a file in the data folder, mode 0600. */
export const CREDENTIALS_FILE_NAME = 'first-start-credentials.txt';

export function credentialsFile(dataDir: string): string {
	return path.join(dataDir, CREDENTIALS_FILE_NAME);
}

/**
 * The rule for one-time secrets (the first start's API key, a generated operator token): they never enter a
 * log stream. Stdout is one unless it is a terminal: under systemd it is the journal's socket (or a file),
 * and docker without `-t`, pm2, supervisord, nohup and a pipe into a file are not terminals either. On a
 * terminal a person started the gateway (`npm start`) and reads them once there.
 *
 * Why not systemd's INVOCATION_ID or JOURNAL_STREAM: both are inherited by everything a unit starts (a
 * terminal emulator run as a user service, and its shells), and JOURNAL_STREAM only means the journal when
 * it names the stream's own device and inode (systemd.exec); a unit's stdout is never a terminal unless
 * the unit asks for one (`StandardOutput=tty`, a console that is not a log).
 */
export function stdoutIsTerminal(stdout: { isTTY?: boolean } = process.stdout): boolean {
	return stdout.isTTY === true;
}

/** One-time secrets as a person reads them, and what stdout says instead when they go to the file. */
export interface OneTimeSecrets {
	text: string;
	/** Stdout's text when the secrets are in `file`: where they are and how to get new ones, no secret. */
	notice: (file: string) => string;
}

/** Shows one-time secrets once, following the rule above; throws if they could not be kept. */
export type ShowSecrets = (secrets: OneTimeSecrets) => void;

export function secretsOutlet(options: {
	terminal: boolean;
	print: (text: string) => void;
	dataDir: string;
}): ShowSecrets {
	const { terminal, print, dataDir } = options;
	if (terminal) return (secrets) => print(secrets.text);
	return (secrets) => {
		const file = credentialsFile(dataDir);
		writeDurably(file, `${secrets.text}\n${FILE_FOOTER}\n`);
		print(secrets.notice(file));
	};
}

const FILE_FOOTER = [
	'Written once by the gateway, since its output was not a terminal (secrets never go to its log).',
	'Keep the secrets above somewhere safe, then delete this file.',
].join('\n');

/** The credentials file, when a start finds it still there (it is the operator's to delete). */
export function leftoverCredentialsFile(dataDir: string): string | undefined {
	const file = credentialsFile(dataDir);
	return fs.existsSync(file) ? file : undefined;
}

/**
 * Writes `text` to `file` (mode 0600) so that a crash leaves the whole file or none of it: a temporary file,
 * flushed to disk, renamed over the target, and the folder's entry flushed too.
 */
function writeDurably(file: string, text: string): void {
	const temp = `${file}.tmp`;
	fs.rmSync(temp, { force: true });
	try {
		const fd = fs.openSync(temp, 'wx', PRIVATE_FILE_MODE);
		try {
			fs.writeFileSync(fd, text);
			fs.fsyncSync(fd);
		} finally {
			fs.closeSync(fd);
		}
		fs.renameSync(temp, file);
	} catch (error) {
		fs.rmSync(temp, { force: true });
		throw error;
	}
	const dir = fs.openSync(path.dirname(file), 'r');
	try {
		fs.fsyncSync(dir);
	} finally {
		fs.closeSync(dir);
	}
}
