import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LOG_BUNDLE_RETENTION_DAYS, type LogBundle } from '@roomlink/shared';
import type { Db } from './db';

/** A room that has not sent its logs this long after being asked never will: the request shows as failed. */
export const LOG_UPLOAD_WINDOW_MS = 2 * 60_000;

interface Row {
  tenant_id: string;
  id: string;
  room_id: string;
  requested_by: string;
  requested_at: string;
  token_hash: string;
  received_at: string | null;
  size: number | null;
  sha256: string | null;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest();

/**
 * Log bundles: asked for by a technician, uploaded once by the room with a
 * one-time token, downloaded from the console, dropped after 30 days.
 */
export class LogBundles {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  /** A new request and the token the room uploads with; only the token's hash is stored. */
  request(tenantId: string, roomId: string, requestedBy: string): { bundle: LogBundle; token: string } {
    const id = `logs-${randomUUID()}`;
    const token = randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO log_bundles (tenant_id, id, room_id, requested_by, requested_at, token_hash) VALUES (?, ?, ?, ?, ?, ?)')
      .run(tenantId, id, roomId, requestedBy, this.now().toISOString(), hashToken(token).toString('hex'));
    return { bundle: this.get(tenantId, id)!, token };
  }

  /**
   * Stores the room's upload when the token is the one issued for this
   * bundle, the window is open and nothing was stored yet. Returns the
   * bundle, or null for anything else (which all look the same to the caller).
   */
  receive(id: string, token: string, content: Buffer): { tenantId: string; bundle: LogBundle } | null {
    const row = this.row(id);
    if (!row || row.received_at !== null) return null;
    if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), hashToken(token))) return null;
    if (this.now().getTime() - Date.parse(row.requested_at) > LOG_UPLOAD_WINDOW_MS) return null;
    const sha256 = createHash('sha256').update(content).digest('hex');
    const stored = this.db
      .prepare('UPDATE log_bundles SET received_at = ?, size = ?, sha256 = ?, content = ? WHERE id = ? AND received_at IS NULL')
      .run(this.now().toISOString(), content.length, sha256, content, id);
    if (stored.changes !== 1) return null;
    return { tenantId: row.tenant_id, bundle: this.get(row.tenant_id, id)! };
  }

  list(tenantId: string, roomId: string): LogBundle[] {
    return this.db
      .prepare<[string, string], Row>('SELECT tenant_id, id, room_id, requested_by, requested_at, token_hash, received_at, size, sha256 FROM log_bundles WHERE tenant_id = ? AND room_id = ? ORDER BY requested_at DESC LIMIT 50')
      .all(tenantId, roomId)
      .map((row) => this.view(row));
  }

  get(tenantId: string, id: string): LogBundle | undefined {
    const row = this.row(id);
    return row && row.tenant_id === tenantId ? this.view(row) : undefined;
  }

  content(tenantId: string, id: string): Buffer | undefined {
    return this.db.prepare<[string, string], { content: Buffer | null }>('SELECT content FROM log_bundles WHERE tenant_id = ? AND id = ?').get(tenantId, id)?.content ?? undefined;
  }

  /** Drops bundles older than the retention; returns how many. */
  purge(): number {
    const cutoff = new Date(this.now().getTime() - LOG_BUNDLE_RETENTION_DAYS * 86_400_000).toISOString();
    return this.db.prepare('DELETE FROM log_bundles WHERE requested_at < ?').run(cutoff).changes;
  }

  private row(id: string): Row | undefined {
    return this.db.prepare<[string], Row>('SELECT tenant_id, id, room_id, requested_by, requested_at, token_hash, received_at, size, sha256 FROM log_bundles WHERE id = ?').get(id);
  }

  private view(row: Row): LogBundle {
    const late = row.received_at === null && this.now().getTime() - Date.parse(row.requested_at) > LOG_UPLOAD_WINDOW_MS;
    return {
      id: row.id,
      roomId: row.room_id as LogBundle['roomId'],
      status: row.received_at !== null ? 'ready' : late ? 'failed' : 'requested',
      requestedBy: row.requested_by,
      requestedAt: row.requested_at,
      receivedAt: row.received_at,
      size: row.size,
      sha256: row.sha256,
      problem: late ? `The room did not send its logs within ${LOG_UPLOAD_WINDOW_MS / 60_000} minutes.` : null,
    };
  }
}
