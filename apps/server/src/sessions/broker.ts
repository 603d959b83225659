import { randomUUID } from 'node:crypto';
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
import { sql } from 'kysely';
import { isUniqueViolation, type Store } from '../store/engine';
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
  /** Where a failure goes that has no caller to throw to (a timer's end of a session). */
  onError: (error: unknown) => void;
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
  /** Set when its end record is being written: a second end (a timer and the room's report at once) does nothing. */
  closing: boolean;
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
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly audit: AuditLog,
    private readonly folder: AuditFolder,
    private readonly keys: ServerKeys,
    private readonly links: Links,
    private readonly config: BrokerConfig,
    private readonly now: () => Date,
  ) {
    this.startLimiter = new RateLimiter(config.startRate.burst, config.startRate.perSecond, () => now().getTime());
  }

  /**
   * Sessions a previous process left open (it crashed, or shut down before
   * their rooms reported) cannot be resumed, but their rooms know how they
   * ended: each agent keeps its end report until acknowledged and sends it
   * when it reconnects. Whatever has not been reported after
   * `orphanReportMs` is closed with its counts and end time marked unknown.
   */
  async adoptOrphans(): Promise<void> {
    const open = await this.store.db.selectFrom('sessions').select(['id', 'tenant_id', 'room_id']).where('state', '!=', 'ended').execute();
    for (const row of open) this.orphans.set(row.id, { tenantId: row.tenant_id, roomId: row.room_id });
    if (this.orphans.size === 0) return;
    const timer = setTimeout(() => {
      const left = [...this.orphans];
      this.orphans.clear();
      (async () => {
        for (const [id, orphan] of left) await this.finish(id, orphan.tenantId, { reason: 'control_plane_lost', report: null, endedAt: null });
      })().catch(this.config.onError);
    }, this.config.orphanReportMs);
    timer.unref();
  }

  /** A room's end report for a session that is no longer live: an orphan's truthful end, or a repeat of one already written. */
  private async reported(roomId: string, report: Extract<AgentToServer, { type: 'session.end' }>): Promise<void> {
    const orphan = this.orphans.get(report.sessionId);
    if (orphan?.roomId === roomId) {
      this.orphans.delete(report.sessionId);
      await this.finish(report.sessionId, orphan.tenantId, { reason: report.reason, report, endedAt: await this.reportedEnd(report.sessionId, report.endedAt) });
    } else if (!(await this.store.db.selectFrom('sessions').select('id').where('id', '=', report.sessionId).where('room_id', '=', roomId).where('state', '=', 'ended').executeTakeFirst())) {
      return;
    }
    this.links.sendToAgent(roomId, { type: 'session.ack', sessionId: report.sessionId });
  }

  /** The room's own end time, when it is one: after the start and not in the future (give or take a minute of clock skew). */
  private async reportedEnd(sessionId: string, endedAt: string | undefined): Promise<Date | null> {
    const row = await this.store.db.selectFrom('sessions').select('started_at').where('id', '=', sessionId).executeTakeFirst();
    const at = endedAt ? Date.parse(endedAt) : NaN;
    if (!row || Number.isNaN(at) || at < Date.parse(row.started_at) || at > this.now().getTime() + 60_000) return null;
    return new Date(at);
  }

  async start(caller: Caller, roomId: string, device: ConsoleDevice): Promise<SessionStarted> {
    const { principal } = caller;
    const tenantId = principal.tenantId;
    const refuse = async (code: ErrorCode, room?: RoomRecord): Promise<never> => {
      // Refusals are what a script can provoke by the thousand: repeats fold into one record with a count.
      await this.folder.append(`${tenantId}\u0000${principal.userId}\u0000${roomId}\u0000${code}`, { tenantId, type: 'session.refused', actorId: principal.userId, actorName: caller.name, roomId, roomName: room?.name ?? null, data: { code, consoleDevice: device } });
      throw new ApiFailure(code);
    };
    if (!this.startLimiter.take(`${tenantId}:${principal.userId}`)) return refuse('rate_limited');
    const room = await this.directory.room(tenantId, roomId);
    if (!room) return refuse('room_not_found');
    const policy = await this.directory.policy(tenantId);
    if (!policy.remoteAccessEnabled) return refuse('remote_access_disabled', room);
    const decision = remoteAccessLevel(policy, principal, { id: room.id, tenantId: room.tenantId, location: room.locationPath, tags: room.tags });
    if (decision.level === 'none') return refuse('not_permitted', room);
    if (room.license !== 'pro' || !room.agentPublicKey) return refuse('room_not_monitored', room);
    if (!this.links.agentOnline(room.id)) return refuse('room_offline', room);
    if (room.inCall) return refuse('room_in_call', room);
    const busy = this.byRoom.get(room.id);
    if (busy) return refuse(busy.userId === principal.userId ? 'session_already_open' : 'room_busy', room);

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
      closing: false,
      timers: new Map(),
    };
    const grant = await this.signGrant(session);
    // The room may have been taken while the grant was being signed.
    if (this.byRoom.has(room.id)) return refuse('room_busy', room);
    try {
      await this.store.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('sessions')
          .values({
            id: session.id,
            tenant_id: tenantId,
            room_id: room.id,
            room_name: room.name,
            user_id: session.userId,
            user_name: session.userName,
            level,
            console_device: JSON.stringify(device),
            state: 'requested',
            started_at: new Date(session.startedAt).toISOString(),
            live_room: room.id,
          })
          .execute();
        await this.audit.append(trx, {
          tenantId,
          type: 'session.started',
          actorId: session.userId,
          actorName: session.userName,
          roomId: room.id,
          roomName: room.name,
          sessionId: session.id,
          data: { level, consoleDevice: device, grantId: session.grantId, assignmentIds: decision.assignmentIds },
        });
      });
    } catch (error) {
      // The database holds the room for another session: one started meanwhile, or one a crashed process left open.
      if (isUniqueViolation(error)) return refuse('room_busy', room);
      throw error;
    }
    this.live.set(session.id, session);
    this.byRoom.set(room.id, session);
    this.timer(session, 'setup', this.config.setupTimeoutMs, () => this.end(session.id, 'setup_timeout'));
    if (!this.links.consoleOnline(tenantId, session.userId)) this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
    // Both ends get the same servers and credentials; TURN credentials name the session, so the relay's log does too.
    const ice = icePlan(this.config.ice, session.id, new Date(session.startedAt));
    this.links.sendToAgent(room.id, { type: 'session.offer', sessionId: session.id as never, grant, level, ...ice });
    await this.setState(session, 'offered');
    return { sessionId: session.id as never, roomId: room.id as never, roomName: room.name, level, ...ice };
  }

  private async signGrant(session: Live): Promise<string> {
    const iat = Math.floor(session.startedAt / 1000);
    // Pointer control is the tenant's setting at the start; only a modify session may use it.
    session.pointer = session.level === 'modify' && (await this.directory.remoteAccess(session.tenantId)).pointerControl;
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

  private timer(session: Live, name: 'setup' | 'agentGrace' | 'consoleGrace' | 'endAck', ms: number, run: () => Promise<void>): void {
    clearTimeout(session.timers.get(name));
    const handle = setTimeout(() => void run().catch(this.config.onError), ms);
    handle.unref();
    session.timers.set(name, handle);
  }

  private clearTimer(session: Live, name: 'setup' | 'agentGrace' | 'consoleGrace' | 'endAck'): void {
    clearTimeout(session.timers.get(name));
    session.timers.delete(name);
  }

  /** The consoles hear of the change at once, in the order changes happen; the record follows. */
  private async setState(session: Live, state: SessionState, extra: { reason?: EndReason; code?: ErrorCode; restarting?: boolean } = {}): Promise<void> {
    session.state = state;
    this.links.sendToConsoles(session.tenantId, session.userId, { type: 'session.state', sessionId: session.id as never, state, ...extra });
    // An ended record is final: a late write of an earlier state must not reopen it.
    if (state !== 'ended') await this.store.db.updateTable('sessions').set({ state }).where('id', '=', session.id).where('state', '!=', 'ended').execute();
  }

  /** Ends a session from the server's side: tells the agent, waits briefly for its counts, then closes the record. */
  async end(sessionId: string, reason: EndReason, code?: ErrorCode): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session || session.state === 'ending' || session.state === 'ended') return;
    session.endReason = reason;
    this.clearTimer(session, 'setup');
    const told = this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason });
    if (told) this.timer(session, 'endAck', this.config.endAckMs, () => this.close(session, reason, null));
    await this.setState(session, 'ending', { reason, ...(code && { code }) });
    if (!told) await this.close(session, reason, null);
  }

  /** A console asks to end its own session. */
  async endByUser(caller: Caller, sessionId: string): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session || session.tenantId !== caller.principal.tenantId || session.userId !== caller.principal.userId) throw new ApiFailure('session_not_found');
    await this.end(sessionId, 'user_ended');
  }

  private async close(session: Live, reason: EndReason, report: RoomReport | null, code?: ErrorCode): Promise<void> {
    if (session.closing) return;
    session.closing = true;
    for (const handle of session.timers.values()) clearTimeout(handle);
    session.timers.clear();
    this.live.delete(session.id);
    if (this.byRoom.get(session.room.id) === session) this.byRoom.delete(session.room.id);
    await this.finish(session.id, session.tenantId, { reason, report, endedAt: this.now() }, session);
    await this.setState(session, 'ended', { reason, ...(code && { code }), ...(report && { restarting: report.restarting }) });
  }

  /** Writes the end record. `report` null: the room never said how it ended (counts, restart); `endedAt` null: nobody knows when. */
  private async finish(sessionId: string, tenantId: string, end: { reason: EndReason; report: RoomReport | null; endedAt: Date | null }, session?: Live): Promise<void> {
    const { reason, endedAt } = end;
    const input = end.report?.input ?? null;
    const row = await this.store.db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    if (!row) return;
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('sessions')
        .set({ state: 'ended', live_room: null, ended_at: endedAt?.toISOString() ?? null, end_reason: reason, input_accepted: input?.accepted ?? 0, input_dropped: input?.dropped ?? 0, input_known: input ? 1 : 0 })
        .where('id', '=', sessionId)
        .execute();
      const startedAt = Date.parse(row.started_at);
      await this.audit.append(trx, {
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
    });
    // An ended session is sealed at once, not at the next round: its record is what an auditor comes for.
    await this.audit.checkpoint(tenantId);
  }

  // From the agent hub. `roomId` is the authenticated room of the connection.

  async onAgentMessage(roomId: string, message: AgentToServer): Promise<void> {
    if (!('sessionId' in message)) return;
    const session = this.live.get(message.sessionId);
    if (!session && message.type === 'session.end') return this.reported(roomId, message);
    // A message naming a session of another room is dropped like an unknown one.
    if (!session || session.room.id !== roomId) return;
    switch (message.type) {
      case 'session.accept':
        if (session.state === 'offered') await this.setState(session, 'connecting');
        return;
      case 'session.reject':
        await this.audit.record({ tenantId: session.tenantId, type: 'session.rejected', actorId: session.userId, actorName: session.userName, roomId, roomName: session.room.name, sessionId: session.id, data: { code: message.code } });
        await this.close(session, 'grant_rejected', null, message.code);
        return;
      case 'session.active':
        if (session.state === 'connecting' || session.state === 'offered') {
          this.clearTimer(session, 'setup');
          session.activeAt = this.now().getTime();
          const activeAt = new Date(session.activeAt).toISOString();
          await this.store.db.updateTable('sessions').set({ active_at: activeAt }).where('id', '=', session.id).execute();
          await this.setState(session, 'active');
        }
        return;
      case 'session.end':
        await this.close(session, session.endReason ?? message.reason, message);
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
  async reevaluate(tenantId: string): Promise<void> {
    const policy = await this.directory.policy(tenantId);
    const pointerControl = (await this.directory.remoteAccess(tenantId)).pointerControl;
    for (const session of [...this.live.values()]) {
      if (session.tenantId !== tenantId || session.state === 'ending' || session.state === 'ended') continue;
      const room = await this.directory.room(tenantId, session.room.id);
      const allowed = room && room.license === 'pro' ? remoteAccessLevel(policy, session.principal, { id: room.id, tenantId, location: room.locationPath, tags: room.tags }).level : 'none';
      if (allowed === 'none') {
        await this.end(session.id, 'access_revoked');
        continue;
      }
      const level = allowed === 'view' ? 'view' : session.level;
      const pointer = session.pointer && level === 'modify' && pointerControl;
      if (level === session.level && pointer === session.pointer) continue;
      const data = { from: session.level, to: level, ...(pointer !== session.pointer && { pointer: { from: session.pointer, to: pointer } }) };
      session.level = level;
      session.pointer = pointer;
      await this.store.db.transaction().execute(async (trx) => {
        await trx.updateTable('sessions').set({ level }).where('id', '=', session.id).execute();
        await this.audit.append(trx, { tenantId, type: 'session.lowered', actorId: session.userId, actorName: session.userName, roomId: session.room.id, roomName: session.room.name, sessionId: session.id, data });
      });
      this.links.sendToAgent(session.room.id, { type: 'session.lower', sessionId: session.id as never, level, pointer });
    }
  }

  /** A newer token of a user with live sessions: their groups or directory roles may have changed since the start. */
  async principalSeen(principal: Principal): Promise<void> {
    let changed = false;
    for (const session of this.live.values()) {
      if (session.tenantId !== principal.tenantId || session.userId !== principal.userId) continue;
      if (sameMembers(session.principal.groups, principal.groups) && sameMembers(session.principal.directoryRoles, principal.directoryRoles)) continue;
      session.principal = principal;
      changed = true;
    }
    if (changed) await this.reevaluate(principal.tenantId);
  }

  async onCallState(roomId: string, inCall: boolean): Promise<void> {
    const session = this.byRoom.get(roomId);
    if (session && inCall) await this.end(session.id, 'call_started');
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

  /**
   * On shutdown: every live session ends at its room, which keeps its end
   * report, and the record stays open: the next start adopts it and writes
   * the room's own counts and end time when its agent reconnects.
   */
  async shutdown(): Promise<void> {
    const sessions = [...this.live.values()];
    this.live.clear();
    this.byRoom.clear();
    for (const session of sessions) {
      for (const handle of session.timers.values()) clearTimeout(handle);
      this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason: 'control_plane_lost' });
      await this.setState(session, 'ending', { reason: 'control_plane_lost' });
    }
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
