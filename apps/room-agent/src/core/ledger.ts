import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { GrantLedger } from './grants';

/**
 * Spent grant ids in a small JSON file in the agent's data directory, so a
 * restarted agent still refuses a replay. Entries are dropped once their
 * grant has expired: an expired grant is refused on expiry anyway.
 */
export class FileGrantLedger implements GrantLedger {
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!existsSync(file)) return;
    let stored: unknown;
    try {
      stored = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new Error(`The grant ledger ${file} is corrupt; remove it only if no session grant issued in the last minute can be replayed.`);
    }
    if (typeof stored !== 'object' || stored === null) throw new Error(`The grant ledger ${file} is corrupt.`);
    for (const [jti, expiresAt] of Object.entries(stored)) if (typeof expiresAt === 'number') this.spent.set(jti, expiresAt);
  }

  has(jti: string): boolean {
    return this.spent.has(jti);
  }

  add(jti: string, expiresAt: number): void {
    const now = this.now();
    for (const [id, until] of this.spent) if (until < now) this.spent.delete(id);
    this.spent.set(jti, expiresAt);
    // Write-then-rename: a crash leaves the old ledger or the new one, never half of one.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(Object.fromEntries(this.spent)), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}
