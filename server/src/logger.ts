import pino, { type DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';

export type Logger = pino.Logger;

/** Anything that can carry a key or secret is replaced before a log line is written. */
export const REDACTED_PATHS = [
	'authorization',
	'apiKey',
	'api_key',
	'key',
	'secret',
	'token',
	'adminToken',
	'password',
	'*.authorization',
	'*.Authorization',
	'*.apiKey',
	'*.api_key',
	'*.key',
	'*.secret',
	'*.signing_secret',
	'*.token',
	'*.adminToken',
	'*.password',
	'settings',
	'providerSettings',
	'provider_settings',
	'*.settings',
	'*.providerSettings',
	'*.provider_settings',
	'headers.authorization',
	'req.headers.authorization',
	'req.headers["x-whatsapp-gateway-3cx-secret"]',
	'headers["x-whatsapp-gateway-3cx-secret"]',
];

/** GATEWAY_LOG_FORMAT: `auto` is pretty on a terminal and JSON lines otherwise (files, journald, pipes). */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** Readable lines for people (time, level, message, then the fields), redaction already applied. */
export function prettyDestination(
	output: NodeJS.WritableStream = process.stdout,
	colorize = process.stdout.isTTY === true,
): DestinationStream {
	return pinoPretty({
		destination: output,
		colorize,
		sync: true,
		translateTime: 'SYS:HH:MM:ss.l',
		ignore: 'pid,hostname,service',
		singleLine: true,
	});
}

/** The logger `serve` uses: pretty or JSON lines on stdout, following GATEWAY_LOG_FORMAT. */
export function createServerLogger(level: string, format: LogFormat, isTty = process.stdout.isTTY === true): Logger {
	const pretty = format === 'pretty' || (format === 'auto' && isTty);
	return createLogger(level, pretty ? prettyDestination() : undefined);
}

/** JSON lines on stdout (or the given stream), with secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
	return pino(
		{
			level,
			base: { service: 'whatsapp-gateway' },
			timestamp: pino.stdTimeFunctions.isoTime,
			redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
		},
		destination,
	);
}
