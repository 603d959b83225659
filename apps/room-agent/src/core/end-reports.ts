import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentSessionEnd, type Unversioned } from '@roomlink/shared';

export type EndReport = Unversioned<z.infer<typeof AgentSessionEnd>>;
const Stored = z.array(AgentSessionEnd.omit({ v: true }));

/** Reports kept at most: a room that never reaches its server for weeks still has a bounded file. */
const MAX_REPORTS = 100;

/**
 * The room's account of each session's end (reason, input counts, end time),
 * kept in a small file until the server says it has written the record, so
 * that a server that crashed or restarted mid-session still writes the
 * truth when the agent reconnects. Survives an agent restart too.
 */
export class EndReports {
  private reports: EndReport[] = [];

  constructor(private readonly file: string) {
    if (!existsSync(file)) return;
    // A damaged file loses reports, never the agent: the server then records those counts as unknown.
    let stored: unknown;
    try {
      stored = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    const parsed = Stored.safeParse(stored);
    if (parsed.success) this.reports = parsed.data;
  }

  get pending(): readonly EndReport[] {
    return this.reports;
  }

  add(report: EndReport): void {
    this.reports = [...this.reports.filter((r) => r.sessionId !== report.sessionId), report].slice(-MAX_REPORTS);
    this.save();
  }

  acknowledged(sessionId: string): void {
    const before = this.reports.length;
    this.reports = this.reports.filter((r) => r.sessionId !== sessionId);
    if (this.reports.length !== before) this.save();
  }

  private save(): void {
    // Write-then-rename: a crash leaves the old list or the new one, never half of one.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.reports), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}
