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
import type { Db } from '../store/db';
import type { Directory } from '../store/directory';
import type { RoomMonitor } from './room-monitor';

interface Row {
  tenant_id: string;
  id: string;
  room_id: string;
  room_name: string;
  cause: IncidentCause;
  severity: Incident['severity'];
  state: Incident['state'];
  opened_at: string;
  updated_at: string;
  resolved_at: string | null;
  auto_resolved: number;
  reopened: number;
  assignee_id: string | null;
  assignee_name: string | null;
}

const toIncident = (r: Row): Incident => ({
  id: r.id,
  roomId: r.room_id as Incident['roomId'],
  roomName: r.room_name,
  cause: r.cause,
  severity: r.severity,
  state: r.state,
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
  private readonly writers = new Set<(tenantId: string, incident: Incident, entry: IncidentEntry) => void>();

  constructor(
    private readonly db: Db,
    private readonly directory: Directory,
    private readonly monitor: RoomMonitor,
    private readonly audit: AuditLog,
    private readonly now: () => Date,
  ) {
    for (const row of db.prepare<[], { id: string; room_id: string; cause: IncidentCause }>("SELECT id, room_id, cause FROM incidents WHERE state != 'resolved'").all()) this.setOpen(row.room_id, row.cause, row.id);
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
  onWrite(writer: (tenantId: string, incident: Incident, entry: IncidentEntry) => void): void {
    this.writers.add(writer);
  }

  rules(tenantId: string): IncidentRules {
    let rules = this.rulesCache.get(tenantId);
    if (!rules) {
      const row = this.db.prepare<[string], { rules: string }>('SELECT rules FROM incident_rules WHERE tenant_id = ?').get(tenantId);
      const parsed = row ? IncidentRules.safeParse(JSON.parse(row.rules)) : null;
      rules = parsed?.success ? parsed.data : defaultIncidentRules;
      this.rulesCache.set(tenantId, rules);
    }
    return rules;
  }

  setRules(tenantId: string, rules: IncidentRules, actor: Actor): IncidentRules {
    this.db.transaction(() => {
      const before = this.rules(tenantId);
      this.db.prepare('INSERT INTO incident_rules (tenant_id, rules) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET rules = excluded.rules').run(tenantId, JSON.stringify(rules));
      this.audit.append({ tenantId, type: 'incidentRules.updated', actorId: actor.id, actorName: actor.name, data: { before, after: rules } });
    })();
    this.rulesCache.set(tenantId, rules);
    return rules;
  }

  /** One pass of the rules over every room's current state, on a timer (`DEFAULT_INCIDENT_EVERY_MS`). */
  evaluate(): void {
    this.monitor.flush();
    const now = this.now().getTime();
    for (const room of this.monitor.rooms()) {
      const open = this.open.get(room.roomId);
      for (const { cause, subject, failing } of causes) {
        const recorded = room.states.get(subject);
        if (!recorded) continue;
        const isFailing = failing(recorded.state);
        const openId = open?.get(cause);
        // Most rooms are well with nothing open: they cost a lookup per cause, not a date parse.
        if (!isFailing && !openId) continue;
        const rules = this.rules(room.tenantId);
        const lasted = now - Date.parse(recorded.at);
        if (isFailing) {
          const threshold = (cause === 'offline' ? rules.offlineMinutes : rules.signalErrorMinutes) * 60_000;
          if (!openId && lasted >= threshold) this.openIncident(room.tenantId, room.roomId, cause, cause === 'offline' ? 'critical' : rules.signalSeverity[subject as HealthSignal], recorded.at);
        } else if (openId && lasted >= rules.recoverMinutes * 60_000) {
          this.change(openId, 'autoResolved', null, null);
        }
      }
    }
  }

  /** `failingSince`: when this failure began. An incident resolved after that (by a person, while it still failed) stays resolved until it fails anew. */
  private openIncident(tenantId: string, roomId: string, cause: IncidentCause, severity: Incident['severity'], failingSince: string): void {
    const room = this.directory.room(tenantId, roomId);
    if (!room) return;
    const at = this.now().toISOString();
    const rules = this.rules(tenantId);
    const last = this.db.prepare<[string, string], Row>("SELECT * FROM incidents WHERE room_id = ? AND cause = ? AND state = 'resolved' ORDER BY resolved_at DESC LIMIT 1").get(roomId, cause);
    if (last && last.resolved_at! >= failingSince) return;
    if (last && Date.parse(last.resolved_at!) >= Date.parse(at) - rules.reopenMinutes * 60_000) {
      this.change(last.id, 'reopened', null, null);
      return;
    }
    const id = `inc-${randomUUID()}`;
    const entry: IncidentEntry = { at, kind: 'opened', by: null, text: null };
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO incidents (tenant_id, id, room_id, room_name, cause, severity, state, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(tenantId, id, roomId, room.name, cause, severity, 'detected', at, at);
      this.addEntry(id, entry);
      this.audit.append({ tenantId, type: 'incident.opened', roomId, roomName: room.name, data: { incidentId: id, cause, severity } });
      this.written(tenantId, id, entry);
    })();
    this.setOpen(roomId, cause, id);
    this.announce(tenantId, id, entry);
  }

  /**
   * One step of an incident's life. People acknowledge, assign, add notes
   * and resolve; the rules resolve and reopen. Refuses what the state does
   * not allow (acknowledging a resolved incident, say).
   */
  change(id: string, kind: Exclude<IncidentEntry['kind'], 'opened'>, actor: Actor | null, detail: { text?: string; assignee?: Actor } | null): Incident {
    const current = this.row(id);
    if (!current) throw new IncidentError('bad_request', 'No such incident.');
    const resolved = current.state === 'resolved';
    if (kind === 'reopened' ? !resolved : resolved && kind !== 'note') throw new IncidentError('conflict', 'The incident is resolved.');
    const at = this.now().toISOString();
    const next: Partial<Row> = { updated_at: at };
    if (kind === 'acknowledged') {
      if (current.state !== 'detected') throw new IncidentError('conflict', 'The incident was already acknowledged.');
      next.state = 'active';
    }
    if (kind === 'assigned') Object.assign(next, { state: 'investigating', assignee_id: detail!.assignee!.id, assignee_name: detail!.assignee!.name });
    if (kind === 'resolved' || kind === 'autoResolved') Object.assign(next, { state: 'resolved', resolved_at: at, auto_resolved: kind === 'autoResolved' ? 1 : 0 });
    if (kind === 'reopened') Object.assign(next, { state: 'detected', resolved_at: null, auto_resolved: 0, reopened: current.reopened + 1 });
    const text = kind === 'assigned' ? detail!.assignee!.name : (detail?.text ?? null);
    const entry: IncidentEntry = { at, kind, by: actor?.name ?? null, text };
    this.db.transaction(() => {
      const columns = Object.keys(next);
      this.db.prepare(`UPDATE incidents SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...next, id });
      this.addEntry(id, entry);
      this.audit.append({
        tenantId: current.tenant_id,
        type: 'incident.changed',
        actorId: actor?.id ?? null,
        actorName: actor?.name ?? null,
        roomId: current.room_id,
        roomName: current.room_name,
        data: { incidentId: id, cause: current.cause, change: kind, ...(text !== null && { text }) },
      });
      this.written(current.tenant_id, id, entry);
    })();
    if (next.state === 'resolved') this.setOpen(current.room_id, current.cause, null);
    if (kind === 'reopened') this.setOpen(current.room_id, current.cause, id);
    return this.announce(current.tenant_id, id, entry);
  }

  private setOpen(roomId: string, cause: IncidentCause, id: string | null): void {
    const open = this.open.get(roomId) ?? new Map<IncidentCause, string>();
    if (id) open.set(cause, id);
    else open.delete(cause);
    if (open.size > 0) this.open.set(roomId, open);
    else this.open.delete(roomId);
  }

  list(tenantId: string, query: IncidentQuery, rooms: readonly string[] | null): Incident[] {
    const where = ['tenant_id = @tenantId'];
    if (rooms) where.push('room_id IN (SELECT value FROM json_each(@rooms))');
    if (query.state === 'open') where.push("state != 'resolved'");
    else if (query.state) where.push('state = @state');
    if (query.severity) where.push('severity = @severity');
    if (query.roomId) where.push('room_id = @roomId');
    if (query.assigneeId) where.push('assignee_id = @assigneeId');
    if (query.locationId) where.push('room_id IN (SELECT id FROM rooms WHERE tenant_id = @tenantId AND EXISTS (SELECT 1 FROM json_each(location_path) WHERE value = @locationId))');
    return this.db
      .prepare<Record<string, unknown>, Row>(`SELECT * FROM incidents WHERE ${where.join(' AND ')} ORDER BY opened_at DESC LIMIT @limit`)
      .all({ ...query, tenantId, limit: query.limit ?? 200, ...(rooms && { rooms: JSON.stringify(rooms) }) })
      .map(toIncident);
  }

  /** Open incidents by severity, in the tenant or in `rooms`. */
  openCounts(tenantId: string, rooms: readonly string[] | null): Record<Incident['severity'], number> {
    const counts = { critical: 0, warning: 0 };
    const rows = this.db
      .prepare<[string, string | null, string | null], { severity: Incident['severity']; n: number }>(
        "SELECT severity, count(*) AS n FROM incidents WHERE tenant_id = ? AND state != 'resolved' AND (? IS NULL OR room_id IN (SELECT value FROM json_each(?))) GROUP BY severity",
      )
      .all(tenantId, rooms && JSON.stringify(rooms), rooms && JSON.stringify(rooms));
    for (const row of rows) counts[row.severity] = row.n;
    return counts;
  }

  detail(tenantId: string, id: string): IncidentDetail | null {
    const row = this.row(id);
    if (!row || row.tenant_id !== tenantId) return null;
    const timeline = this.db
      .prepare<[string], { at: string; kind: IncidentEntry['kind']; by_name: string | null; text: string | null }>('SELECT at, kind, by_name, text FROM incident_entries WHERE incident_id = ? ORDER BY at, rowid')
      .all(id)
      .map((e) => ({ at: e.at, kind: e.kind, by: e.by_name, text: e.text }));
    return { incident: toIncident(row), timeline };
  }

  get(tenantId: string, id: string): Incident | null {
    const row = this.row(id);
    return row && row.tenant_id === tenantId ? toIncident(row) : null;
  }

  private row(id: string): Row | undefined {
    return this.db.prepare<[string], Row>('SELECT * FROM incidents WHERE id = ?').get(id);
  }

  private addEntry(id: string, entry: IncidentEntry): void {
    this.db.prepare('INSERT INTO incident_entries (incident_id, at, kind, by_name, text) VALUES (?, ?, ?, ?, ?)').run(id, entry.at, entry.kind, entry.by, entry.text);
  }

  private written(tenantId: string, id: string, entry: IncidentEntry): void {
    if (this.writers.size === 0) return;
    const incident = toIncident(this.row(id)!);
    for (const writer of this.writers) writer(tenantId, incident, entry);
  }

  private announce(tenantId: string, id: string, entry: IncidentEntry): Incident {
    const incident = toIncident(this.row(id)!);
    for (const listener of this.listeners) listener(tenantId, incident, entry);
    return incident;
  }
}
