/**
 * A pino logger writing into memory, so tests can read every log line (and prove what never appears).
 */
import { createLogger, type Logger } from '../../src/log';

export interface MemoryLog {
  logger: Logger;
  /** Every line written so far, raw. */
  text(): string;
  /** Every line parsed. */
  entries(): Array<Record<string, unknown>>;
}

export function memoryLogger(level = 'trace'): MemoryLog {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return {
    logger,
    text: () => lines.join(''),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
