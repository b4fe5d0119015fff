import pino, { type DestinationStream } from 'pino';

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
