/**
 * The logger: pino with redaction. No PHI, JWT or access token is ever logged: request bodies are
 * never logged, and the paths below are censored wherever they appear in a log object.
 */
import pino, { type Logger, type DestinationStream } from 'pino';

const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'access_token',
  '*.access_token',
  'token',
  '*.token',
  'jwt',
  '*.jwt',
  'prefetch',
  '*.prefetch',
  'context',
  '*.context',
  'patient',
  '*.patient',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'ketamine-cds' },
    },
    options.destination,
  );
}

export type { Logger };
