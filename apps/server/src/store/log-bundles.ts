import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LOG_BUNDLE_RETENTION_DAYS, type LogBundle } from '@roomlink/shared';
import type { Kysely, Selectable } from 'kysely';
import type { Store } from './engine';
import type { Tables } from './schema';

/** A room that has not sent its logs this long after being asked never will: the request shows as failed. */
export const LOG_UPLOAD_WINDOW_MS = 2 * 60_000;

/** A bundle's row without its content, which only a download reads. */
type Row = Omit<Selectable<Tables['log_bundles']>, 'content'>;

/** Every column but the content, which only a download reads. */
const columns = ['tenant_id', 'id', 'room_id', 'requested_by', 'requested_at', 'token_hash', 'received_at', 'size', 'sha256'] as const;

const hashToken = (token: string) => createHash('sha256').update(token).digest();

/**
 * Log bundles: asked for by a technician, uploaded once by the room with a
 * one-time token, downloaded from the console, dropped after 30 days.
 */
export class LogBundles {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** A new request and the token the room uploads with; only the token's hash is stored. */
  async request(tenantId: string, roomId: string, requestedBy: string, db: Kysely<Tables> = this.store.db): Promise<{ bundle: LogBundle; token: string }> {
    const id = `logs-${randomUUID()}`;
    const token = randomBytes(32).toString('base64url');
    await db
      .insertInto('log_bundles')
      .values({ tenant_id: tenantId, id, room_id: roomId, requested_by: requestedBy, requested_at: this.now().toISOString(), token_hash: hashToken(token).toString('hex') })
      .execute();
    return { bundle: (await this.get(tenantId, id, db))!, token };
  }

  /**
   * Stores the room's upload when the token is the one issued for this
   * bundle, the window is open and nothing was stored yet. Returns the
   * bundle, or null for anything else (which all look the same to the caller).
   */
  async receive(id: string, token: string, content: Buffer, db: Kysely<Tables> = this.store.db): Promise<{ tenantId: string; bundle: LogBundle } | null> {
    const row = await this.row(id, db);
    if (!row || row.received_at !== null) return null;
    if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), hashToken(token))) return null;
    if (this.now().getTime() - Date.parse(row.requested_at) > LOG_UPLOAD_WINDOW_MS) return null;
    const sha256 = createHash('sha256').update(content).digest('hex');
    const stored = await db
      .updateTable('log_bundles')
      .set({ received_at: this.now().toISOString(), size: content.length, sha256, content })
      .where('id', '=', id)
      .where('received_at', 'is', null)
      .executeTakeFirst();
    if (stored.numUpdatedRows !== 1n) return null;
    return { tenantId: row.tenant_id, bundle: (await this.get(row.tenant_id, id, db))! };
  }

  async list(tenantId: string, roomId: string): Promise<LogBundle[]> {
    const rows = await this.store.db.selectFrom('log_bundles').select(columns).where('tenant_id', '=', tenantId).where('room_id', '=', roomId).orderBy('requested_at', 'desc').limit(50).execute();
    return rows.map((row) => this.view(row));
  }

  async get(tenantId: string, id: string, db: Kysely<Tables> = this.store.db): Promise<LogBundle | undefined> {
    const row = await this.row(id, db);
    return row && row.tenant_id === tenantId ? this.view(row) : undefined;
  }

  async content(tenantId: string, id: string): Promise<Buffer | undefined> {
    const row = await this.store.db.selectFrom('log_bundles').select('content').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row?.content ?? undefined;
  }

  /** Drops bundles older than the retention; returns how many. */
  async purge(): Promise<number> {
    const cutoff = new Date(this.now().getTime() - LOG_BUNDLE_RETENTION_DAYS * 86_400_000).toISOString();
    return Number((await this.store.db.deleteFrom('log_bundles').where('requested_at', '<', cutoff).executeTakeFirst()).numDeletedRows);
  }

  private row(id: string, db: Kysely<Tables>): Promise<Row | undefined> {
    return db.selectFrom('log_bundles').select(columns).where('id', '=', id).executeTakeFirst();
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
