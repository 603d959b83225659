import type { AuditEntry, AuditLog } from './log';

interface Window {
  entry: AuditEntry;
  repeats: number;
  firstAt: string;
  lastAt: string;
  timer: NodeJS.Timeout;
}

/** Open windows kept at most; past it, new keys share one window per tenant and type, so memory stays bounded under a flood. */
const MAX_WINDOWS = 10_000;

/**
 * Folds a flood of identical audit records into two: the first of a key is
 * written at once, the repeats within `windowMs` are only counted, and one
 * record with the count (`repeated`, with the first and last time) is
 * written when the window closes. Nothing is lost, and 500 refused starts
 * in a second cost two records, not 500. For records that anyone can
 * provoke: refusals and failed proofs, never a session or a change.
 */
export class AuditFolder {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly audit: AuditLog,
    private readonly windowMs: number,
    private readonly now: () => Date,
    /** Where a window's count goes when it cannot be written: its timer has no caller to throw to. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Resolves once the record is written, or at once when it only counts as a repeat. */
  async append(key: string, entry: AuditEntry): Promise<void> {
    const crowded = !this.windows.has(key) && this.windows.size >= MAX_WINDOWS;
    const folded = crowded ? `${entry.tenantId}\u0000${entry.type}\u0000*` : key;
    // A shared window speaks for many rooms and callers: it names none of them.
    if (crowded) entry = { tenantId: entry.tenantId, type: entry.type, data: { manyKeys: true } };
    const at = this.now().toISOString();
    const open = this.windows.get(folded);
    if (open) {
      open.repeats += 1;
      open.lastAt = at;
      return;
    }
    const timer = setTimeout(() => void this.close(folded).catch(this.onError), this.windowMs);
    timer.unref();
    this.windows.set(folded, { entry, repeats: 0, firstAt: at, lastAt: at, timer });
    await this.audit.record(entry);
  }

  /** Writes every open window's count now: on shutdown, before the database closes. */
  async flush(): Promise<void> {
    for (const key of [...this.windows.keys()]) await this.close(key);
  }

  private async close(key: string): Promise<void> {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
    if (window.repeats === 0) return;
    await this.audit.record({ ...window.entry, data: { ...window.entry.data, repeated: window.repeats, firstAt: window.firstAt, lastAt: window.lastAt } });
  }
}
