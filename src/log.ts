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

export function createLogger(
  options: {
    level?: string;
    destination?: DestinationStream;
    /** Sees every log call's object (also of child loggers), e.g. to count events in metrics. */
    onEntry?: (entry: Record<string, unknown>) => void;
  } = {},
): Logger {
  const { onEntry } = options;
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'ketamine-cds' },
      ...(onEntry
        ? {
            hooks: {
              logMethod(args, method) {
                const [first] = args as unknown[];
                if (typeof first === 'object' && first !== null) onEntry(first as Record<string, unknown>);
                method.apply(this, args);
              },
            },
          }
        : {}),
    },
    options.destination,
  );
}

export type { Logger };
