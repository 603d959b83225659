import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stderr; key contents are never logged, only counts (rule 12). */
export function createLogger(level: string): Logger {
  return pino({ name: 'roomlink-agent', level }, pino.destination(2));
}
