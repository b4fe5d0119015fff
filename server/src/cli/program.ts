import { Command, CommanderError } from '@commander-js/extra-typings';
import { loadConfig, type Config } from '../config';
import { Gateway } from '../gateway';
import type { RunningServer } from '../server';
import { startServer } from '../server';
import { VERSION } from '../version';
import { accountCommands } from './commands/accounts';
import { eventCommands } from './commands/events';
import { instanceCommands } from './commands/instances';
import { operationCommands } from './commands/operations';
import { operatorTokenCommands } from './commands/operator-token';
import { threecxCommands } from './commands/threecx';
import type { CliContext } from './context';

export interface CliIo {
	stdout: (text: string) => void;
	stderr: (text: string) => void;
	env: NodeJS.ProcessEnv;
	cwd: string;
	/** Whether `stdout` is a terminal: only then does `serve` print one-time secrets (not set: it is not). */
	terminal?: boolean;
}

export interface CliResult {
	code: number;
	/** Set by `serve`: the running server, kept alive by the caller. */
	server?: RunningServer;
}

/**
 * `whatsapp-gateway`: the operator CLI (docs/cli.md). Commands work on the database directly, so
 * they also work while the gateway runs (SQLite WAL allows it).
 */
export async function runCli(argv: string[], io: CliIo): Promise<CliResult> {
	let server: RunningServer | undefined;
	let config: Config | undefined;
	const getConfig = () => (config ??= loadConfig(io.env, io.cwd));

	const withGateway = async <T>(fn: (gateway: Gateway) => T | Promise<T>): Promise<T> => {
		// The same provider settings and webhook destination rules (GATEWAY_WEBHOOK_BLOCK_PRIVATE) as the server.
		const gateway = new Gateway({
			databasePath: getConfig().databasePath,
			providers: Gateway.providerOptions(getConfig()),
			delivery: { allowPrivate: getConfig().webhooks.allowPrivate },
		});
		try {
			return await fn(gateway);
		} finally {
			gateway.close();
		}
	};
	const emit = (json: boolean | undefined, data: unknown, human: string) => {
		io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : human);
	};
	const progress = (json: boolean | undefined, text: string) => (json ? io.stderr(text) : io.stdout(text));
	const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
	const context: CliContext = { getConfig, withGateway, emit, progress, sleep };

	const program = new Command('whatsapp-gateway')
		.description('Run and manage a self-hosted WhatsApp Gateway.')
		.version(VERSION)
		.option('--data-dir <dir>', 'database folder (default: GATEWAY_DATA_DIR or ./data)')
		.exitOverride()
		.configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
		.showHelpAfterError(false);
	program.hook('preAction', () => {
		const dataDir = program.opts().dataDir;
		if (dataDir) config = loadConfig({ ...io.env, GATEWAY_DATA_DIR: dataDir }, io.cwd);
	});

	serveCommand(program, io, getConfig, (running) => (server = running));

	accountCommands(program, context);
	operatorTokenCommands(program, context);
	instanceCommands(program, context);
	eventCommands(program, context);
	threecxCommands(program, context);

	// ---- backup, restore ----
	operationCommands(program, context);

	try {
		await program.parseAsync(argv, { from: 'user' });
		return { code: 0, server };
	} catch (error) {
		if (error instanceof CommanderError) {
			// Help and version print to stdout and exit 0; usage errors were already written by commander.
			return { code: error.exitCode === 0 ? 0 : 2 };
		}
		io.stderr(`whatsapp-gateway: ${oneLine(error)}\n`);
		return { code: 1 };
	}
}

/** `serve`: the gateway in this process, handed to `started` (the caller keeps it alive). */
function serveCommand(program: Command, io: CliIo, getConfig: () => Config, started: (server: RunningServer) => void) {
	program
		.command('serve')
		.description('start the gateway HTTP server')
		.action(async () => {
			// One-time secrets are printed only when stdout is a terminal (operations/one-time-secrets.ts).
			const options = { print: io.stdout, terminal: io.terminal === true, handleSignals: true };
			started(await startServer(getConfig(), options));
		});
}

function oneLine(error: unknown): string {
	const message = error instanceof Error ? error.message : String(error);
	return message.replace(/\s+/g, ' ').trim();
}
