import { randomUUID } from 'node:crypto';
import {
  defaultIncidentRules,
  HealthSignal,
  IncidentRules,
  type Incident,
  type IncidentCause,
  type IncidentDetail,
  type IncidentEntry,
  type IncidentQuery,
  type RoomSubject,
} from '@roomlink/shared';
import type { AuditLog } from '../audit/log';
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely';
import { isUniqueViolation, type Store } from '../store/engine';
import type { Tables } from '../store/schema';
import type { Directory } from '../store/directory';
import type { Recorded, RoomMonitor } from './room-monitor';

type Row = Selectable<Tables['incidents']>;

const toIncident = (r: Row): Incident => ({
  id: r.id,
  roomId: r.room_id as Incident['roomId'],
  roomName: r.room_name,
  cause: r.cause as IncidentCause,
  severity: r.severity as Incident['severity'],
  state: r.state as Incident['state'],
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  resolvedAt: r.resolved_at,
  autoResolved: r.auto_resolved === 1,
  reopened: r.reopened,
  assigneeId: r.assignee_id,
  assigneeName: r.assignee_name,
});

const causes: readonly { cause: IncidentCause; subject: RoomSubject; failing: (state: string) => boolean }[] = [
  { cause: 'offline', subject: 'presence', failing: (state) => state === 'offline' },
  ...HealthSignal.options.map((signal) => ({ cause: `signal.${signal}` as IncidentCause, subject: signal as RoomSubject, failing: (state: string) => state === 'error' })),
];

/** Writes what goes with an incident's change (alert deliveries) in the change's transaction `trx`. */
export type Writer = (trx: Kysely<Tables>, tenantId: string, incident: Incident, entry: IncidentEntry) => Promise<void>;

export class IncidentError extends Error {
  constructor(
    readonly code: 'bad_request' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/** Who changed an incident, for its timeline and the audit. */
export interface Actor {
  id: string;
  name: string;
}

/**
 * Incidents from room events, by the tenant's rules (see `IncidentRules`):
 * opened when a cause has lasted long enough, resolved by themselves once it
 * has been gone long enough, reopened when it comes back soon after. At most
 * one open incident per room and cause (a unique index says so too), so a
 * flapping signal never makes a storm. Every change is an audit record and
 * reaches the listeners (pushes, alerts) once committed.
 */
export class Incidents {
  private readonly rulesCache = new Map<string, IncidentRules>();
  /** Open incidents' ids by room, then cause: the rules' pass asks once per room, so a well room costs no string building. */
  private readonly open = new Map<string, Map<IncidentCause, string>>();
  private readonly listeners = new Set<(tenantId: string, incident: Incident, entry: IncidentEntry) => void>();
  private readonly writers = new Set<Writer>();

  /** Rooms whose open incidents this node has read: another node may have opened or closed them before this one held the room. */
  private readonly read = new Set<string>();
  /** Rooms the monitor has recorded whose open incidents are still to be read. */
  private readonly unread = new Set<string>();
  /** Rooms with a subject in a failing state as last recorded: with the rooms that have open incidents, all the rules act on. */
  private readonly failing = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly monitor: RoomMonitor,
    private readonly audit: AuditLog,
    private readonly now: () => Date,
  ) {}

  private get db(): Kysely<Tables> {
    return this.store.db;
  }

  onChange(listener: (tenantId: string, incident: Incident, entry: IncidentEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `writer` inside the transaction of every change, with the incident
   * as it will be: what it writes (alert deliveries) commits with the change
   * or not at all.
   */
  onWrite(writer: Writer): void {
    this.writers.add(writer);
  }

  async rules(tenantId: string, db = this.db): Promise<IncidentRules> {
    let rules = this.rulesCache.get(tenantId);
    if (!rules) {
      const row = await db.selectFrom('incident_rules').select('rules').where('tenant_id', '=', tenantId).executeTakeFirst();
      const parsed = row ? IncidentRules.safeParse(JSON.parse(row.rules)) : null;
      rules = parsed?.success ? parsed.data : defaultIncidentRules;
      this.rulesCache.set(tenantId, rules);
    }
    return rules;
  }

  async setRules(tenantId: string, rules: IncidentRules, actor: Actor): Promise<IncidentRules> {
    await this.db.transaction().execute(async (trx) => {
      const before = await this.rules(tenantId, trx);
      await trx
        .insertInto('incident_rules')
        .values({ tenant_id: tenantId, rules: JSON.stringify(rules) })
        .onConflict((oc) => oc.column('tenant_id').doUpdateSet((eb) => ({ rules: eb.ref('excluded.rules') })))
        .execute();
      await this.audit.append(trx, { tenantId, type: 'incidentRules.updated', actorId: actor.id, actorName: actor.name, data: { before, after: rules } });
    });
    this.rulesCache.set(tenantId, rules);
    return rules;
  }

  /** One pass of the rules, on a timer (`DEFAULT_INCIDENT_EVERY_MS`), over the rooms whose state fails or that have an open incident: a well room that did not change costs nothing. */
  async evaluate(): Promise<void> {
    await this.monitor.flush();
    for (const roomId of this.monitor.takeChanged()) {
      const states = this.monitor.recordedOf(roomId)?.states;
      if (states && causes.some(({ subject, failing }) => failing(states.get(subject)?.state ?? ''))) this.failing.add(roomId);
      else this.failing.delete(roomId);
      if (states && !this.read.has(roomId)) this.unread.add(roomId);
    }
    await this.readOpen([...this.unread]);
    // The rooms the rules will act on are read again: whatever another node did to their incidents counts.
    await this.readOpen([...new Set(this.candidates().map((c) => c.roomId))]);
    const now = this.now().getTime();
    for (const { tenantId, roomId, cause, subject, recorded, openId, isFailing } of this.candidates()) {
      const rules = await this.rules(tenantId);
      const lasted = now - Date.parse(recorded.at);
      try {
        if (isFailing) {
          const threshold = (cause === 'offline' ? rules.offlineMinutes : rules.signalErrorMinutes) * 60_000;
          if (!openId && lasted >= threshold) await this.openIncident(tenantId, roomId, cause, cause === 'offline' ? 'critical' : rules.signalSeverity[subject as HealthSignal], recorded.at);
        } else if (openId && lasted >= rules.recoverMinutes * 60_000) {
          await this.change(openId, 'autoResolved', null, null);
        }
      } catch (error) {
        // Another node changed the incident since it was read (or opened the room's own): the next pass reads it again.
        if (!(error instanceof IncidentError) && !isUniqueViolation(error)) throw error;
        this.read.delete(roomId);
        this.unread.add(roomId);
      }
    }
  }

  /** The open incidents of these rooms, as the database has them now. */
  private async readOpen(roomIds: readonly string[]): Promise<void> {
    for (let i = 0; i < roomIds.length; i += 1_000) {
      const chunk = roomIds.slice(i, i + 1_000);
      const rows = await this.db.selectFrom('incidents').select(['id', 'room_id', 'cause']).where('state', '!=', 'resolved').where(this.store.dialect.inList(sql.ref('room_id'), chunk)).execute();
      for (const roomId of chunk) {
        this.open.delete(roomId);
        this.read.add(roomId);
        this.unread.delete(roomId);
      }
      for (const row of rows) this.setOpen(row.room_id, row.cause as IncidentCause, row.id);
    }
  }

  /**
   * The room causes the rules must look at: failing, or with an incident
   * open. One synchronous pass over every room's states: most rooms are
   * well with nothing open, and cost a lookup per cause.
   */
  private candidates(): { tenantId: string; roomId: string; cause: IncidentCause; subject: RoomSubject; recorded: Recorded; openId: string | undefined; isFailing: boolean }[] {
    const found = [];
    for (const roomId of new Set([...this.failing, ...this.open.keys()])) {
      const room = this.monitor.recordedOf(roomId);
      if (!room) continue;
      const open = this.open.get(roomId);
      for (const { cause, subject, failing } of causes) {
        const recorded = room.states.get(subject);
        if (!recorded) continue;
        const openId = open?.get(cause);
        const isFailing = failing(recorded.state);
        if (openId || isFailing) found.push({ tenantId: room.tenantId, roomId, cause, subject, recorded, openId, isFailing });
      }
    }
    return found;
  }

  /** `failingSince`: when this failure began. An incident resolved after that (by a person, while it still failed) stays resolved until it fails anew. */
  private async openIncident(tenantId: string, roomId: string, cause: IncidentCause, severity: Incident['severity'], failingSince: string): Promise<void> {
    const room = await this.directory.room(tenantId, roomId);
    if (!room) return;
    const at = this.now().toISOString();
    const rules = await this.rules(tenantId);
    const last = await this.db.selectFrom('incidents').selectAll().where('room_id', '=', roomId).where('cause', '=', cause).where('state', '=', 'resolved').orderBy('resolved_at', 'desc').limit(1).executeTakeFirst();
    if (last && last.resolved_at! >= failingSince) return;
    if (last && Date.parse(last.resolved_at!) >= Date.parse(at) - rules.reopenMinutes * 60_000) {
      await this.change(last.id, 'reopened', null, null);
      return;
    }
    const id = `inc-${randomUUID()}`;
    const entry: IncidentEntry = { at, kind: 'opened', by: null, text: null };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('incidents').values({ tenant_id: tenantId, id, room_id: roomId, room_name: room.name, cause, severity, state: 'detected', opened_at: at, updated_at: at }).execute();
      await this.addEntry(trx, id, entry);
      await this.audit.append(trx, { tenantId, type: 'incident.opened', roomId, roomName: room.name, data: { incidentId: id, cause, severity } });
      await this.written(trx, tenantId, id, entry);
    });
    this.setOpen(roomId, cause, id);
    await this.announce(tenantId, id, entry);
  }

  /**
   * One step of an incident's life. People acknowledge, assign, add notes
   * and resolve; the rules resolve and reopen. Refuses what the state does
   * not allow (acknowledging a resolved incident, say).
   */
  async change(id: string, kind: Exclude<IncidentEntry['kind'], 'opened'>, actor: Actor | null, detail: { text?: string; assignee?: Actor } | null): Promise<Incident> {
    const current = await this.row(this.db, id);
    if (!current) throw new IncidentError('bad_request', 'No such incident.');
    const resolved = current.state === 'resolved';
    if (kind === 'reopened' ? !resolved : resolved && kind !== 'note') throw new IncidentError('conflict', 'The incident is resolved.');
    const at = this.now().toISOString();
    const next: Updateable<Tables['incidents']> = { updated_at: at };
    if (kind === 'acknowledged') {
      if (current.state !== 'detected') throw new IncidentError('conflict', 'The incident was already acknowledged.');
      next.state = 'active';
    }
    if (kind === 'assigned') Object.assign(next, { state: 'investigating', assignee_id: detail!.assignee!.id, assignee_name: detail!.assignee!.name });
    if (kind === 'resolved' || kind === 'autoResolved') Object.assign(next, { state: 'resolved', resolved_at: at, auto_resolved: kind === 'autoResolved' ? 1 : 0 });
    if (kind === 'reopened') Object.assign(next, { state: 'detected', resolved_at: null, auto_resolved: 0, reopened: current.reopened + 1 });
    const text = kind === 'assigned' ? detail!.assignee!.name : (detail?.text ?? null);
    const entry: IncidentEntry = { at, kind, by: actor?.name ?? null, text };
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('incidents').set(next).where('id', '=', id).execute();
      await this.addEntry(trx, id, entry);
      await this.audit.append(trx, {
        tenantId: current.tenant_id,
        type: 'incident.changed',
        actorId: actor?.id ?? null,
        actorName: actor?.name ?? null,
        roomId: current.room_id,
        roomName: current.room_name,
        data: { incidentId: id, cause: current.cause, change: kind, ...(text !== null && { text }) },
      });
      await this.written(trx, current.tenant_id, id, entry);
    });
    if (next.state === 'resolved') this.setOpen(current.room_id, current.cause as IncidentCause, null);
    if (kind === 'reopened') this.setOpen(current.room_id, current.cause as IncidentCause, id);
    return this.announce(current.tenant_id, id, entry);
  }

  private setOpen(roomId: string, cause: IncidentCause, id: string | null): void {
    const open = this.open.get(roomId) ?? new Map<IncidentCause, string>();
    if (id) open.set(cause, id);
    else open.delete(cause);
    if (open.size > 0) this.open.set(roomId, open);
    else this.open.delete(roomId);
  }

  async list(tenantId: string, query: IncidentQuery, rooms: readonly string[] | null): Promise<Incident[]> {
    const { dialect } = this.store;
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .$if(rooms !== null, (w) => w.where(dialect.inList(sql.ref('room_id'), rooms!)))
      .$if(query.state === 'open', (w) => w.where('state', '!=', 'resolved'))
      .$if(query.state !== undefined && query.state !== 'open', (w) => w.where('state', '=', query.state!))
      .$if(query.severity !== undefined, (w) => w.where('severity', '=', query.severity!))
      .$if(query.roomId !== undefined, (w) => w.where('room_id', '=', query.roomId!))
      .$if(query.assigneeId !== undefined, (w) => w.where('assignee_id', '=', query.assigneeId!))
      .$if(query.locationId !== undefined, (w) =>
        w.where('room_id', 'in', (eb) => eb.selectFrom('rooms').select('id').where('tenant_id', '=', tenantId).where(dialect.jsonArrayHas(sql.ref('location_path'), query.locationId!))),
      )
      .orderBy('opened_at', 'desc')
      .limit(Number(query.limit ?? 200))
      .execute();
    return rows.map(toIncident);
  }

  /** Open incidents by severity, in the tenant or in `rooms`. */
  async openCounts(tenantId: string, rooms: readonly string[] | null): Promise<Record<Incident['severity'], number>> {
    const counts = { critical: 0, warning: 0 };
    const rows = await this.db
      .selectFrom('incidents')
      .select((eb) => ['severity', eb.fn.countAll<number>().as('n')])
      .where('tenant_id', '=', tenantId)
      .where('state', '!=', 'resolved')
      .$if(rooms !== null, (w) => w.where(this.store.dialect.inList(sql.ref('room_id'), rooms!)))
      .groupBy('severity')
      .execute();
    for (const row of rows) counts[row.severity as Incident['severity']] = Number(row.n);
    return counts;
  }

  async detail(tenantId: string, id: string): Promise<IncidentDetail | null> {
    const row = await this.row(this.db, id);
    if (!row || row.tenant_id !== tenantId) return null;
    const entries = await this.db.selectFrom('incident_entries').select(['at', 'kind', 'by_name', 'text']).where('incident_id', '=', id).orderBy('at').orderBy('rowid').execute();
    return { incident: toIncident(row), timeline: entries.map((e) => ({ at: e.at, kind: e.kind as IncidentEntry['kind'], by: e.by_name, text: e.text })) };
  }

  async get(tenantId: string, id: string): Promise<Incident | null> {
    const row = await this.row(this.db, id);
    return row && row.tenant_id === tenantId ? toIncident(row) : null;
  }

  private row(db: Kysely<Tables>, id: string): Promise<Row | undefined> {
    return db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private async addEntry(trx: Kysely<Tables>, id: string, entry: IncidentEntry): Promise<void> {
    await trx.insertInto('incident_entries').values({ incident_id: id, at: entry.at, kind: entry.kind, by_name: entry.by, text: entry.text }).execute();
  }

  private async written(trx: Kysely<Tables>, tenantId: string, id: string, entry: IncidentEntry): Promise<void> {
    if (this.writers.size === 0) return;
    const incident = toIncident((await this.row(trx, id))!);
    for (const writer of this.writers) await writer(trx, tenantId, incident, entry);
  }

  private async announce(tenantId: string, id: string, entry: IncidentEntry): Promise<Incident> {
    const incident = toIncident((await this.row(this.db, id))!);
    for (const listener of this.listeners) listener(tenantId, incident, entry);
    return incident;
  }
}
