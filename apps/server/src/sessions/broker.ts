import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { remoteAccessLevel, type Principal } from '@roomlink/rbac';
import {
  GRANT_AUDIENCE,
  GRANT_ISSUER,
  GRANT_TTL_SECONDS,
  type AgentToServer,
  type EndReason,
  type ErrorCode,
  type ServerToAgent,
  type ServerToConsole,
  type SessionLevel,
  type SessionStarted,
  type SessionState,
  type SessionView,
  type SignalData,
  type Unversioned,
} from '@roomlink/shared';
import type { AuditFolder } from '../audit/fold';
import type { AuditLog } from '../audit/log';
import type { Caller } from '../auth/tokens';
import { ApiFailure } from '../errors';
import type { ServerKeys } from '../keys';
import type { Db } from '../store/db';
import type { Directory, RoomRecord } from '../store/directory';
import { RateLimiter } from './rate-limit';

import { icePlan, type IceConfig } from './ice';
/** How the broker reaches the two ends; implemented by the hubs. */
export interface Links {
  agentOnline(roomId: string): boolean;
  sendToAgent(roomId: string, message: Unversioned<ServerToAgent>): boolean;
  consoleOnline(tenantId: string, userId: string): boolean;
  sendToConsoles(tenantId: string, userId: string, message: Unversioned<ServerToConsole>): void;
}

export interface BrokerConfig {
  ice: IceConfig;
  /** From the offer to the media being up. */
  setupTimeoutMs: number;
  /** How long either end may be away before the session ends with `control_plane_lost`. */
  graceMs: number;
  /** How long to wait for the agent's own end report (with input counts) before closing the record. */
  endAckMs: number;
  /** After a restart, how long sessions the previous process left open wait for their rooms' end reports. */
  orphanReportMs: number;
  startRate: { burst: number; perSecond: number };
}

export interface ConsoleDevice {
  name: string;
  userAgent: string;
  address: string;
}

/** What the room says about a session's end: its input counts and whether it restarts afterwards. */
type RoomReport = Pick<Extract<AgentToServer, { type: 'session.end' }>, 'input' | 'restarting'>;

interface Live {
  id: string;
  tenantId: string;
  room: RoomRecord;
  /** Who started it, as their token said: what rule 14 asks about again when access changes. */
  principal: Principal;
  userId: string;
  userName: string;
  level: SessionLevel;
  /** Whether its grant lets it drive the room's pointer (the tenant's setting at the start); withdrawn with the setting, never given back. */
  pointer: boolean;
  device: ConsoleDevice;
  grantId: string;
  state: SessionState;
  startedAt: number;
  activeAt: number | null;
  endReason: EndReason | null;
  timers: Map<'setup' | 'agentGrace' | 'consoleGrace' | 'endAck', NodeJS.Timeout>;
}

/**
 * The session broker: rule 5 at the door, signed single-use grants (rule 6),
 * the session state machine of DESIGN.md, signaling relayed only between the
 * two ends of a session, and the audit records of rule 12.
 */
export class SessionBroker {
  private readonly live = new Map<string, Live>();
  private readonly byRoom = new Map<string, Live>();
  /** Sessions left open by a previous process, waiting for their room's end report. */
  private readonly orphans = new Map<string, { tenantId: string; roomId: string }>();
  private readonly startLimiter: RateLimiter;

  constructor(
    private readonly db: Db,
    private readonly directory: Directory,
    private readonly audit: AuditLog,
    private readonly folder: AuditFolder,
    private readonly keys: ServerKeys,
    private readonly links: Links,
    private readonly config: BrokerConfig,
    private readonly now: () => Date,
  ) {
    this.startLimiter = new RateLimiter(config.startRate.burst, config.startRate.perSecond, () => now().getTime());
    this.adoptOrphans();
  }

  /**
   * Sessions a previous process left open (it crashed, or shut down before
   * their rooms reported) cannot be resumed, but their rooms know how they
   * ended: each agent keeps its end report until acknowledged and sends it
   * when it reconnects. Whatever has not been reported after
   * `orphanReportMs` is closed with its counts and end time marked unknown.
   */
  private adoptOrphans(): void {
    const open = this.db.prepare<[], { id: string; tenant_id: string; room_id: string }>("SELECT id, tenant_id, room_id FROM sessions WHERE state != 'ended'").all();
    for (const row of open) this.orphans.set(row.id, { tenantId: row.tenant_id, roomId: row.room_id });
    if (this.orphans.size === 0) return;
    const timer = setTimeout(() => {
      for (const [id, orphan] of this.orphans) this.finish(id, orphan.tenantId, { reason: 'control_plane_lost', report: null, endedAt: null });
      this.orphans.clear();
    }, this.config.orphanReportMs);
    timer.unref();
  }

  /** A room's end report for a session that is no longer live: an orphan's truthful end, or a repeat of one already written. */
  private reported(roomId: string, report: Extract<AgentToServer, { type: 'session.end' }>): void {
    const orphan = this.orphans.get(report.sessionId);
    if (orphan?.roomId === roomId) {
      this.orphans.delete(report.sessionId);
      this.finish(report.sessionId, orphan.tenantId, { reason: report.reason, report, endedAt: this.reportedEnd(report.sessionId, report.endedAt) });
    } else if (!this.db.prepare("SELECT 1 FROM sessions WHERE id = ? AND room_id = ? AND state = 'ended'").get(report.sessionId, roomId)) {
      return;
    }
    this.links.sendToAgent(roomId, { type: 'session.ack', sessionId: report.sessionId });
  }

  /** The room's own end time, when it is one: after the start and not in the future (give or take a minute of clock skew). */
  private reportedEnd(sessionId: string, endedAt: string | undefined): Date | null {
    const row = this.db.prepare<[string], { started_at: string }>('SELECT started_at FROM sessions WHERE id = ?').get(sessionId);
    const at = endedAt ? Date.parse(endedAt) : NaN;
    if (!row || Number.isNaN(at) || at < Date.parse(row.started_at) || at > this.now().getTime() + 60_000) return null;
    return new Date(at);
  }

  async start(caller: Caller, roomId: string, device: ConsoleDevice): Promise<SessionStarted> {
    const { principal } = caller;
    const tenantId = principal.tenantId;
    const refuse = (code: ErrorCode, room?: RoomRecord): never => {
      // Refusals are what a script can provoke by the thousand: repeats fold into one record with a count.
      this.folder.append(`${tenantId}\u0000${principal.userId}\u0000${roomId}\u0000${code}`, { tenantId, type: 'session.refused', actorId: principal.userId, actorName: caller.name, roomId, roomName: room?.name ?? null, data: { code, consoleDevice: device } });
      throw new ApiFailure(code);
    };
    if (!this.startLimiter.take(`${tenantId}:${principal.userId}`)) refuse('rate_limited');
    const room = this.directory.room(tenantId, roomId);
    if (!room) return refuse('room_not_found');
    const policy = this.directory.policy(tenantId);
    if (!policy.remoteAccessEnabled) refuse('remote_access_disabled', room);
    const decision = remoteAccessLevel(policy, principal, { id: room.id, tenantId: room.tenantId, location: room.locationPath, tags: room.tags });
    if (decision.level === 'none') refuse('not_permitted', room);
    if (room.license !== 'pro' || !room.agentPublicKey) refuse('room_not_monitored', room);
    if (!this.links.agentOnline(room.id)) refuse('room_offline', room);
    if (room.inCall) refuse('room_in_call', room);
    const busy = this.byRoom.get(room.id);
    if (busy) refuse(busy.userId === principal.userId ? 'session_already_open' : 'room_busy', room);

    const level = decision.level as SessionLevel;
    const session: Live = {
      id: `ses-${randomUUID()}`,
      tenantId,
      room,
      principal,
      userId: principal.userId,
      userName: caller.name,
      level,
      pointer: false,
      device,
      grantId: randomUUID(),
      state: 'requested',
      startedAt: this.now().getTime(),
      activeAt: null,
      endReason: null,
      timers: new Map(),
    };
    const grant = await this.signGrant(session);
    // The room may have been taken while the grant was being signed.
    if (this.byRoom.has(room.id)) refuse('room_busy', room);
    try {
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO sessions (id, tenant_id, room_id, room_name, user_id, user_name, level, console_device, state, started_at, live_room) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(session.id, tenantId, room.id, room.name, session.userId, session.userName, level, JSON.stringify(device), 'requested', new Date(session.startedAt).toISOString(), room.id);
        this.audit.append({
          tenantId,
          type: 'session.started',
          actorId: session.userId,
          actorName: session.userName,
          roomId: room.id,
          roomName: room.name,
          sessionId: session.id,
          data: { level, consoleDevice: device, grantId: session.grantId, assignmentIds: decision.assignmentIds },
        });
      })();
    } catch (error) {
      // The database holds the room for a session this process does not know: one a crashed process left open.
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') refuse('room_busy', room);
      throw error;
    }
    this.live.set(session.id, session);
    this.byRoom.set(room.id, session);
    this.timer(session, 'setup', this.config.setupTimeoutMs, () => this.end(session.id, 'setup_timeout'));
    if (!this.links.consoleOnline(tenantId, session.userId)) this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
    // Both ends get the same servers and credentials; TURN credentials name the session, so the relay's log does too.
    const ice = icePlan(this.config.ice, session.id, new Date(session.startedAt));
    this.links.sendToAgent(room.id, { type: 'session.offer', sessionId: session.id as never, grant, level, ...ice });
    this.setState(session, 'offered');
    return { sessionId: session.id as never, roomId: room.id as never, roomName: room.name, level, ...ice };
  }

  private signGrant(session: Live): Promise<string> {
    const iat = Math.floor(session.startedAt / 1000);
    // Pointer control is the tenant's setting at the start; only a modify session may use it.
    session.pointer = session.level === 'modify' && this.directory.remoteAccess(session.tenantId).pointerControl;
    return new SignJWT({ sid: session.id, tid: session.tenantId, rid: session.room.id, lvl: session.level, ptr: session.pointer })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'roomlink-grant+jwt' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(session.userId)
      .setJti(session.grantId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + GRANT_TTL_SECONDS)
      .sign(this.keys.privateKey);
  }

  private timer(session: Live, name: 'setup' | 'agentGrace' | 'consoleGrace' | 'endAck', ms: number, run: () => void): void {
    clearTimeout(session.timers.get(name));
    const handle = setTimeout(run, ms);
    handle.unref();
    session.timers.set(name, handle);
  }

  private clearTimer(session: Live, name: 'setup' | 'agentGrace' | 'consoleGrace' | 'endAck'): void {
    clearTimeout(session.timers.get(name));
    session.timers.delete(name);
  }

  private setState(session: Live, state: SessionState, extra: { reason?: EndReason; code?: ErrorCode; restarting?: boolean } = {}): void {
    session.state = state;
    if (state !== 'ended') this.db.prepare('UPDATE sessions SET state = ? WHERE id = ?').run(state, session.id);
    this.links.sendToConsoles(session.tenantId, session.userId, { type: 'session.state', sessionId: session.id as never, state, ...extra });
  }

  /** Ends a session from the server's side: tells the agent, waits briefly for its counts, then closes the record. */
  end(sessionId: string, reason: EndReason, code?: ErrorCode): void {
    const session = this.live.get(sessionId);
    if (!session || session.state === 'ending' || session.state === 'ended') return;
    session.endReason = reason;
    this.clearTimer(session, 'setup');
    const told = this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason });
    this.setState(session, 'ending', { reason, ...(code && { code }) });
    if (told) this.timer(session, 'endAck', this.config.endAckMs, () => this.close(session, reason, null));
    else this.close(session, reason, null);
  }

  /** A console asks to end its own session. */
  endByUser(caller: Caller, sessionId: string): void {
    const session = this.live.get(sessionId);
    if (!session || session.tenantId !== caller.principal.tenantId || session.userId !== caller.principal.userId) throw new ApiFailure('session_not_found');
    this.end(sessionId, 'user_ended');
  }

  private close(session: Live, reason: EndReason, report: RoomReport | null, code?: ErrorCode): void {
    if (session.state === 'ended') return;
    for (const handle of session.timers.values()) clearTimeout(handle);
    session.timers.clear();
    this.live.delete(session.id);
    if (this.byRoom.get(session.room.id) === session) this.byRoom.delete(session.room.id);
    this.finish(session.id, session.tenantId, { reason, report, endedAt: this.now() }, session);
    this.setState(session, 'ended', { reason, ...(code && { code }), ...(report && { restarting: report.restarting }) });
  }

  /** Writes the end record. `report` null: the room never said how it ended (counts, restart); `endedAt` null: nobody knows when. */
  private finish(sessionId: string, tenantId: string, end: { reason: EndReason; report: RoomReport | null; endedAt: Date | null }, session?: Live): void {
    const { reason, endedAt } = end;
    const input = end.report?.input ?? null;
    const row = this.db
      .prepare<[string], { room_id: string; room_name: string; user_id: string; user_name: string; level: string; console_device: string; started_at: string; active_at: string | null }>(
        'SELECT * FROM sessions WHERE id = ?',
      )
      .get(sessionId);
    if (!row) return;
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE sessions SET state = 'ended', live_room = NULL, ended_at = ?, end_reason = ?, input_accepted = ?, input_dropped = ?, input_known = ? WHERE id = ?")
        .run(endedAt?.toISOString() ?? null, reason, input?.accepted ?? 0, input?.dropped ?? 0, input ? 1 : 0, sessionId);
      const startedAt = Date.parse(row.started_at);
      this.audit.append({
        tenantId,
        type: 'session.ended',
        actorId: row.user_id,
        actorName: row.user_name,
        roomId: row.room_id,
        roomName: row.room_name,
        sessionId,
        data: {
          level: row.level,
          consoleDevice: JSON.parse(row.console_device) as unknown,
          startedAt: row.started_at,
          activeAt: session?.activeAt ? new Date(session.activeAt).toISOString() : row.active_at,
          endedAt: endedAt?.toISOString() ?? null,
          durationMs: endedAt ? endedAt.getTime() - startedAt : null,
          reason,
          input,
          // Whether the room restarted after the session (rule 11), as the room reported it; null when it never did.
          restarted: end.report?.restarting ?? null,
          ...(input === null && { inputCountsReported: false }),
        },
      });
    })();
    // An ended session is sealed at once, not at the next round: its record is what an auditor comes for.
    this.audit.checkpoint(tenantId);
  }

  // From the agent hub. `roomId` is the authenticated room of the connection.

  onAgentMessage(roomId: string, message: AgentToServer): void {
    if (!('sessionId' in message)) return;
    const session = this.live.get(message.sessionId);
    if (!session && message.type === 'session.end') return this.reported(roomId, message);
    // A message naming a session of another room is dropped like an unknown one.
    if (!session || session.room.id !== roomId) return;
    switch (message.type) {
      case 'session.accept':
        if (session.state === 'offered') this.setState(session, 'connecting');
        return;
      case 'session.reject':
        this.audit.append({ tenantId: session.tenantId, type: 'session.rejected', actorId: session.userId, actorName: session.userName, roomId, roomName: session.room.name, sessionId: session.id, data: { code: message.code } });
        this.close(session, 'grant_rejected', null, message.code);
        return;
      case 'session.active':
        if (session.state === 'connecting' || session.state === 'offered') {
          this.clearTimer(session, 'setup');
          session.activeAt = this.now().getTime();
          this.db.prepare('UPDATE sessions SET active_at = ? WHERE id = ?').run(new Date(session.activeAt).toISOString(), session.id);
          this.setState(session, 'active');
        }
        return;
      case 'session.end':
        this.close(session, session.endReason ?? message.reason, message);
        this.links.sendToAgent(roomId, { type: 'session.ack', sessionId: session.id as never });
        return;
      case 'session.signal':
        if (session.state !== 'ending') this.links.sendToConsoles(session.tenantId, session.userId, { type: 'session.signal', sessionId: session.id as never, data: message.data });
        return;
    }
  }

  onConsoleSignal(caller: Caller, sessionId: string, data: SignalData): boolean {
    const session = this.live.get(sessionId);
    if (!session || session.tenantId !== caller.principal.tenantId || session.userId !== caller.principal.userId || session.state === 'ending') return false;
    return this.links.sendToAgent(session.room.id, { type: 'session.signal', sessionId: session.id as never, data });
  }

  /**
   * Rule 14: after any change that can lower access (the tenant switch,
   * pointer control, a role or its assignments, a room's location, tags or
   * licence), every live session of the tenant is decided again. One no
   * longer permitted ends with `access_revoked`; a modify session that
   * dropped to view stops taking keys at the agent at once, and one whose
   * pointer control was withdrawn stops moving the pointer. Never raises
   * anything: that needs a new session and a new grant.
   */
  reevaluate(tenantId: string): void {
    const policy = this.directory.policy(tenantId);
    const pointerControl = this.directory.remoteAccess(tenantId).pointerControl;
    for (const session of [...this.live.values()]) {
      if (session.tenantId !== tenantId || session.state === 'ending' || session.state === 'ended') continue;
      const room = this.directory.room(tenantId, session.room.id);
      const allowed = room && room.license === 'pro' ? remoteAccessLevel(policy, session.principal, { id: room.id, tenantId, location: room.locationPath, tags: room.tags }).level : 'none';
      if (allowed === 'none') {
        this.end(session.id, 'access_revoked');
        continue;
      }
      const level = allowed === 'view' ? 'view' : session.level;
      const pointer = session.pointer && level === 'modify' && pointerControl;
      if (level === session.level && pointer === session.pointer) continue;
      const data = { from: session.level, to: level, ...(pointer !== session.pointer && { pointer: { from: session.pointer, to: pointer } }) };
      session.level = level;
      session.pointer = pointer;
      this.db.transaction(() => {
        this.db.prepare('UPDATE sessions SET level = ? WHERE id = ?').run(level, session.id);
        this.audit.append({ tenantId, type: 'session.lowered', actorId: session.userId, actorName: session.userName, roomId: session.room.id, roomName: session.room.name, sessionId: session.id, data });
      })();
      this.links.sendToAgent(session.room.id, { type: 'session.lower', sessionId: session.id as never, level, pointer });
    }
  }

  /** A newer token of a user with live sessions: their groups or directory roles may have changed since the start. */
  principalSeen(principal: Principal): void {
    let changed = false;
    for (const session of this.live.values()) {
      if (session.tenantId !== principal.tenantId || session.userId !== principal.userId) continue;
      if (sameMembers(session.principal.groups, principal.groups) && sameMembers(session.principal.directoryRoles, principal.directoryRoles)) continue;
      session.principal = principal;
      changed = true;
    }
    if (changed) this.reevaluate(principal.tenantId);
  }

  onCallState(roomId: string, inCall: boolean): void {
    const session = this.byRoom.get(roomId);
    if (session && inCall) this.end(session.id, 'call_started');
  }

  onAgentPresence(roomId: string, online: boolean): void {
    const session = this.byRoom.get(roomId);
    if (!session) return;
    if (online) this.clearTimer(session, 'agentGrace');
    else this.timer(session, 'agentGrace', this.config.graceMs, () => this.close(session, 'control_plane_lost', null));
  }

  onConsolePresence(tenantId: string, userId: string, online: boolean): void {
    for (const session of this.live.values()) {
      if (session.tenantId !== tenantId || session.userId !== userId) continue;
      if (online) this.clearTimer(session, 'consoleGrace');
      else this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
    }
  }

  /** Whether this live session belongs to the given room; the agent hub uses it to check what an agent names. */
  activeInRoom(roomId: string): string | null {
    return this.byRoom.get(roomId)?.id ?? null;
  }

  /** The tenant's sessions, newest first; `rooms`: only those rooms' (a scoped reader), null for all. */
  /** How many sessions are in progress in the tenant, or in `rooms`. */
  countActive(tenantId: string, rooms: readonly string[] | null): number {
    return this.db
      .prepare<[string, string | null, string | null], { n: number }>("SELECT count(*) AS n FROM sessions WHERE tenant_id = ? AND state != 'ended' AND (? IS NULL OR room_id IN (SELECT value FROM json_each(?)))")
      .get(tenantId, rooms && JSON.stringify(rooms), rooms && JSON.stringify(rooms))!.n;
  }

  list(tenantId: string, activeOnly: boolean, rooms: readonly string[] | null = null): SessionView[] {
    const rows = this.db
      .prepare<[string, string | null, string | null], { id: string; room_id: string; room_name: string; user_id: string; user_name: string; level: SessionLevel; state: SessionState; started_at: string; ended_at: string | null; end_reason: EndReason | null; input_accepted: number; input_dropped: number; input_known: number }>(
        `SELECT * FROM sessions WHERE tenant_id = ? ${activeOnly ? "AND state != 'ended'" : ''} AND (? IS NULL OR room_id IN (SELECT value FROM json_each(?))) ORDER BY started_at DESC LIMIT 500`,
      )
      .all(tenantId, rooms && JSON.stringify(rooms), rooms && JSON.stringify(rooms));
    return rows.map((r) => ({
      id: r.id as never,
      roomId: r.room_id as never,
      roomName: r.room_name,
      userId: r.user_id as never,
      userName: r.user_name,
      level: r.level,
      state: r.state,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      endReason: r.end_reason,
      input: r.input_known ? { accepted: r.input_accepted, dropped: r.input_dropped } : null,
    }));
  }

  /**
   * On shutdown: every live session ends at its room, which keeps its end
   * report, and the record stays open: the next start adopts it and writes
   * the room's own counts and end time when its agent reconnects.
   */
  shutdown(): void {
    for (const session of [...this.live.values()]) {
      for (const handle of session.timers.values()) clearTimeout(handle);
      this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason: 'control_plane_lost' });
      this.setState(session, 'ending', { reason: 'control_plane_lost' });
    }
    this.live.clear();
    this.byRoom.clear();
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
