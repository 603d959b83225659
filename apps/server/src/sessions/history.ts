import { sql } from 'kysely';
import type { EndReason, SessionLevel, SessionState, SessionView } from '@roomlink/shared';
import type { Store } from '../store/engine';

/** What the store says about sessions, whichever node runs them: the portal's lists and counts. */
export class SessionHistory {
  constructor(private readonly store: Store) {}

  /** How many sessions are in progress in the tenant, or in `rooms`. */
  async countActive(tenantId: string, rooms: readonly string[] | null): Promise<number> {
    const row = await this.store.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('state', '!=', 'ended')
      .$if(rooms !== null, (w) => w.where(this.store.dialect.inList(sql.ref('room_id'), rooms!)))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The tenant's sessions, newest first; `rooms`: only those rooms' (a scoped reader), null for all. */
  async list(tenantId: string, activeOnly: boolean, rooms: readonly string[] | null = null): Promise<SessionView[]> {
    const rows = await this.store.db
      .selectFrom('sessions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .$if(activeOnly, (w) => w.where('state', '!=', 'ended'))
      .$if(rooms !== null, (w) => w.where(this.store.dialect.inList(sql.ref('room_id'), rooms!)))
      .orderBy('started_at', 'desc')
      .limit(500)
      .execute();
    return rows.map((r) => ({
      id: r.id as never,
      roomId: r.room_id as never,
      roomName: r.room_name,
      userId: r.user_id as never,
      userName: r.user_name,
      level: r.level as SessionLevel,
      state: r.state as SessionState,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      endReason: r.end_reason as EndReason | null,
      input: r.input_known ? { accepted: r.input_accepted, dropped: r.input_dropped } : null,
    }));
  }
}
