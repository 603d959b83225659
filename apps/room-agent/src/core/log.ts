import { pino, type Logger } from 'pino';

export type { Logger };

/** The newest log lines, kept in memory for a log bundle: a room PC's disk may hold nothing else of ours. */
export class RecentLines {
  private readonly kept: string[] = [];

  constructor(private readonly capacity = 1000) {}

  write(line: string): void {
    this.kept.push(line.trimEnd());
    if (this.kept.length > this.capacity) this.kept.splice(0, this.kept.length - this.capacity);
  }

  lines(): string[] {
    return [...this.kept];
  }
}

/**
 * JSON lines on stderr (and into `recent` when given); key contents are
 * never logged, only counts (rule 12). Written synchronously: the default
 * asynchronous destination flushes at exit in a loop that never ends when
 * the reader has gone (sonic-boom's flushSync retries EPIPE forever), and an
 * agent must always be able to exit.
 */
export function createLogger(level: string, recent?: RecentLines): Logger {
  const stderr = pino.destination({ dest: 2, sync: true });
  if (!recent) return pino({ name: 'roomlink-agent', level }, stderr);
  return pino({ name: 'roomlink-agent', level }, pino.multistream([{ level: level as pino.Level, stream: stderr }, { level: level as pino.Level, stream: recent }]));
}
