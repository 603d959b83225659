import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stderr; key contents are never logged, only counts (rule 12).
 * Written synchronously: the default asynchronous destination flushes at
 * exit in a loop that never ends when the reader has gone (sonic-boom's
 * flushSync retries EPIPE forever), and an agent must always be able to exit.
 */
export function createLogger(level: string): Logger {
  return pino({ name: 'roomlink-agent', level }, pino.destination({ dest: 2, sync: true }));
}
