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
  type SignalData,
  type Unversioned,
} from '@roomlink/shared';
import type { AuditFolder } from '../audit/fold';
import type { AuditLog } from '../audit/log';
import type { Envelope } from '../cluster/bus';
import type { Caller } from '../auth/tokens';
import { ApiFailure } from '../errors';
import type { ServerKeys } from '../keys';
import { isUniqueViolation, type Store } from '../store/engine';
import type { Directory, RoomRecord } from '../store/directory';
import { RateLimiter } from './rate-limit';

import { icePlan, type IceConfig } from './ice';
/** An event for the node that runs a session. */
export type SessionEvent = { kind: 'agent'; roomId: string; message: AgentToServer } | Extract<Envelope, { kind: 'consoleSignal' | 'endByUser' }>;
/** News every node hears: each acts on the sessions it runs. */
export type NodeEvent = Extract<Envelope, { kind: 'agentPresence' | 'consolePresence' | 'callState' | 'reevaluate' | 'principal' }>;

/**
 * How the broker reaches the two ends and the other nodes (the switchboard).
 * On one node alone there are no others: `toRunner` finds nobody and
 * `toOthers` tells nobody.
 */
export interface Links {
  readonly nodeId: string;
  /** Whether other nodes share the store: sessions they run are theirs, and those of a node that is gone are adopted. */
  readonly clustered: boolean;
  agentOnline(roomId: string): Promise<boolean>;
  sendToAgent(roomId: string, message: Unversioned<ServerToAgent>): Promise<boolean>;
  consoleOnline(tenantId: string, userId: string): Promise<boolean>;
  sendToConsoles(tenantId: string, userId: string, message: Unversioned<ServerToConsole>): Promise<void>;
  /** Hands an event to the node that runs the session; false when no node does. */
  toRunner(sessionId: string, event: SessionEvent): Promise<boolean>;
  toOthers(event: NodeEvent): Promise<void>;
  /** This node runs the session from now on: its events come here. */
  runs(sessionId: string): Promise<void>;
  stopsRunning(sessionId: string): Promise<void>;
  aliveNodes(nodeIds: readonly string[]): Promise<Set<string>>;
}

/** Who a console's message comes from. */
export interface ConsoleUser {
  tenantId: string;
  userId: string;
}

export interface BrokerConfig {
  ice: IceConfig;
  /** From the offer to the media being up. */
  setupTimeoutMs: number;
  /** How long either end may be away before the session ends with `control_plane_lost`. */
  graceMs: number;
  /** How long to wait for the agent's own end report (with input counts) before closing the record. */
  endAckMs: number;
  /** After a restart, how long sessions the previous process left open wait for their rooms' end reports (one node alone). */
  orphanReportMs: number;
  /** In a cluster, how often each node looks for sessions whose node is gone, to adopt them. */
  adoptEveryMs: number;
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
 *
 * One node runs each session: the one that started it, or the one that
 * adopted it when that node went away (a cluster). Its state machine and
 * timers live there; the other nodes hand it the session's events. The
 * database says which room is held (one live session per room) and by which
 * node, so any node can answer for a session and adopt it.
 */
export class SessionBroker {
  private readonly live = new Map<string, Live>();
  private readonly byRoom = new Map<string, Live>();
  /** Sessions left open by a previous process, waiting for their room's end report. */
  private readonly orphans = new Map<string, { tenantId: string; roomId: string }>();
  private readonly startLimiter: RateLimiter;
  /** The groups and roles each user's token last showed on this node: a change is news for the nodes running their sessions. */
  private readonly principals = new Map<string, string>();
  private sweeper: NodeJS.Timeout | undefined;

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
   * One node alone: sessions a previous process left open (it crashed, or
   * shut down before their rooms reported) cannot be resumed, but their
   * rooms know how they ended: each agent keeps its end report until
   * acknowledged and sends it when it reconnects. Whatever has not been
   * reported after `orphanReportMs` is closed with its counts and end time
   * marked unknown.
   *
   * In a cluster, the sessions of a node that is gone are adopted instead:
   * every node looks every `adoptEveryMs`, and the first to claim one runs it.
   */
  async adoptOrphans(): Promise<void> {
    if (this.links.clustered) {
      this.sweeper = setInterval(() => void this.adoptAbandoned().catch(this.config.onError), this.config.adoptEveryMs);
      this.sweeper.unref();
      return this.adoptAbandoned();
    }
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

  /**
   * Adopts every open session whose node is gone (or gave it up on shutdown),
   * and lets go of any this node runs that another has adopted: a node too
   * busy to beat in time was taken for gone, and the database says who runs
   * a session.
   */
  private async adoptAbandoned(): Promise<void> {
    const rows = await this.store.db.selectFrom('sessions').select(['id', 'node']).where('state', '!=', 'ended').execute();
    for (const row of rows) {
      const session = this.live.get(row.id);
      if (session && row.node !== this.links.nodeId && !session.closing) await this.letGo(session);
    }
    const others = rows.filter((row) => row.node !== this.links.nodeId && !this.live.has(row.id));
    if (others.length === 0) return;
    const alive = await this.links.aliveNodes([...new Set(others.flatMap((row) => row.node ?? []))]);
    for (const row of others) if (row.node === null || !alive.has(row.node)) await this.adopt(row.id, row.node);
  }

  /** The session, if this node runs it or has just adopted it from a node that is gone. */
  private async runningOrAdopted(sessionId: string): Promise<Live | undefined> {
    const running = this.live.get(sessionId);
    if (running || !this.links.clustered) return running;
    const row = await this.store.db.selectFrom('sessions').select('node').where('id', '=', sessionId).where('state', '!=', 'ended').executeTakeFirst();
    if (!row || (row.node !== null && (await this.links.aliveNodes([row.node])).has(row.node))) return undefined;
    await this.adopt(sessionId, row.node);
    return this.live.get(sessionId);
  }

  /**
   * Takes over a session from a node that is gone. The claim is one update
   * naming the node it takes it from, so of nodes adopting at once one wins.
   * Its timers start again here: setup from its start, grace for whichever
   * end is not connected anywhere now.
   */
  private async adopt(sessionId: string, from: string | null): Promise<void> {
    const claimed = await this.store.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('sessions')
        .set({ node: this.links.nodeId })
        .where('id', '=', sessionId)
        .where('state', '!=', 'ended')
        .where((eb) => (from === null ? eb('node', 'is', null) : eb('node', '=', from)))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return null;
      const row = await trx.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirstOrThrow();
      await this.audit.append(trx, { tenantId: row.tenant_id, type: 'session.adopted', actorId: row.user_id, actorName: row.user_name, roomId: row.room_id, roomName: row.room_name, sessionId, data: { fromNode: from, toNode: this.links.nodeId } });
      return row;
    });
    if (!claimed) return;
    const room = await this.directory.room(claimed.tenant_id, claimed.room_id);
    const principal = claimed.principal ? (JSON.parse(claimed.principal) as Principal) : null;
    if (!room || !principal) {
      // Started before sessions said who started them: it cannot be decided again (rule 14), so it ends.
      await this.finish(sessionId, claimed.tenant_id, { reason: 'control_plane_lost', report: null, endedAt: this.now() });
      return;
    }
    const session: Live = {
      id: sessionId,
      tenantId: claimed.tenant_id,
      room,
      principal,
      userId: claimed.user_id,
      userName: claimed.user_name,
      level: claimed.level as SessionLevel,
      pointer: claimed.pointer === 1,
      device: JSON.parse(claimed.console_device) as ConsoleDevice,
      grantId: claimed.grant_id ?? '',
      state: claimed.state as SessionState,
      startedAt: Date.parse(claimed.started_at),
      activeAt: claimed.active_at ? Date.parse(claimed.active_at) : null,
      endReason: null,
      closing: false,
      timers: new Map(),
    };
    this.live.set(session.id, session);
    this.byRoom.set(room.id, session);
    await this.links.runs(session.id);
    if (session.state === 'ending') return this.close(session, 'control_plane_lost', null);
    if (session.activeAt === null) this.timer(session, 'setup', Math.max(0, session.startedAt + this.config.setupTimeoutMs - this.now().getTime()), () => this.end(session.id, 'setup_timeout'));
    if (!(await this.links.agentOnline(room.id))) this.timer(session, 'agentGrace', this.config.graceMs, () => this.close(session, 'control_plane_lost', null));
    if (!(await this.links.consoleOnline(session.tenantId, session.userId))) this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
  }

  /** Stops running a session another node runs now: no end, no record; that node has its timers and its events. */
  private async letGo(session: Live): Promise<void> {
    for (const handle of session.timers.values()) clearTimeout(handle);
    session.timers.clear();
    this.live.delete(session.id);
    if (this.byRoom.get(session.room.id) === session) this.byRoom.delete(session.room.id);
    await this.links.stopsRunning(session.id);
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
    await this.links.sendToAgent(roomId, { type: 'session.ack', sessionId: report.sessionId });
  }

  /** The room's own end time, when it is one: after the start and not in the future (give or take a minute of clock skew). */
  private async reportedEnd(sessionId: string, endedAt: string | undefined): Promise<Date | null> {
    const row = await this.store.db.selectFrom('sessions').select('started_at').where('id', '=', sessionId).executeTakeFirst();
    const at = endedAt ? Date.parse(endedAt) : NaN;
    if (!row || Number.isNaN(at) || at < Date.parse(row.started_at) || at > this.now().getTime() + 60_000) return null;
    return new Date(at);
  }

  /** The user who holds the room's live session, if any: it may run on any node. */
  private async holder(roomId: string): Promise<string | null> {
    const local = this.byRoom.get(roomId);
    if (local) return local.userId;
    return (await this.store.db.selectFrom('sessions').select('user_id').where('live_room', '=', roomId).executeTakeFirst())?.user_id ?? null;
  }

  async start(caller: Caller, roomId: string, device: ConsoleDevice): Promise<SessionStarted> {
    const { principal } = caller;
    const tenantId = principal.tenantId;
    const refuse = async (code: ErrorCode, room?: RoomRecord): Promise<never> => {
      // Refusals are what a script can provoke by the thousand: repeats fold into one record with a count.
      await this.folder.append(`${tenantId}\u0000${principal.userId}\u0000${roomId}\u0000${code}`, { tenantId, type: 'session.refused', actorId: principal.userId, actorName: caller.name, roomId, roomName: room?.name ?? null, data: { code, consoleDevice: device } });
      throw new ApiFailure(code);
    };
    const busy = async (room: RoomRecord): Promise<never> => refuse((await this.holder(room.id)) === principal.userId ? 'session_already_open' : 'room_busy', room);
    if (!this.startLimiter.take(`${tenantId}:${principal.userId}`)) return refuse('rate_limited');
    // Asked at once, checked in order: each wait on the database or Redis is one more chance to queue behind a busy node's other work.
    const [room, policy, settings, agentOnline] = await Promise.all([this.directory.room(tenantId, roomId), this.directory.policy(tenantId), this.directory.remoteAccess(tenantId), this.links.agentOnline(roomId)]);
    if (!room) return refuse('room_not_found');
    if (!policy.remoteAccessEnabled) return refuse('remote_access_disabled', room);
    const decision = remoteAccessLevel(policy, principal, { id: room.id, tenantId: room.tenantId, location: room.locationPath, tags: room.tags });
    if (decision.level === 'none') return refuse('not_permitted', room);
    if (room.license !== 'pro' || !room.agentPublicKey) return refuse('room_not_monitored', room);
    if (!agentOnline) return refuse('room_offline', room);
    if (room.inCall) return refuse('room_in_call', room);
    if (this.byRoom.has(room.id)) return busy(room);

    const level = decision.level as SessionLevel;
    const session: Live = {
      id: `ses-${randomUUID()}`,
      tenantId,
      room,
      principal,
      userId: principal.userId,
      userName: caller.name,
      level,
      // Pointer control is the tenant's setting at the start; only a modify session may use it.
      pointer: level === 'modify' && settings.pointerControl,
      device,
      grantId: randomUUID(),
      // The offer goes to the room as soon as the row is committed: the row says so from the start, one commit instead of two.
      state: 'offered',
      startedAt: this.now().getTime(),
      activeAt: null,
      endReason: null,
      closing: false,
      timers: new Map(),
    };
    const grant = await this.signGrant(session);
    // The room may have been taken while the grant was being signed.
    if (this.byRoom.has(room.id)) return busy(room);
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
            state: session.state,
            started_at: new Date(session.startedAt).toISOString(),
            live_room: room.id,
            node: this.links.nodeId,
            principal: JSON.stringify(principal),
            grant_id: session.grantId,
            pointer: session.pointer ? 1 : 0,
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
      // The database holds the room for another session: one started meanwhile (on any node), or one a crashed process left open.
      if (isUniqueViolation(error)) return busy(room);
      throw error;
    }
    this.live.set(session.id, session);
    this.byRoom.set(room.id, session);
    const [, consoleOnline] = await Promise.all([this.links.runs(session.id), this.links.consoleOnline(tenantId, session.userId)]);
    this.timer(session, 'setup', this.config.setupTimeoutMs, () => this.end(session.id, 'setup_timeout'));
    if (!consoleOnline) this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
    // Both ends get the same servers and credentials; TURN credentials name the session, so the relay's log does too.
    const ice = icePlan(this.config.ice, session.id, new Date(session.startedAt));
    await this.links.sendToAgent(room.id, { type: 'session.offer', sessionId: session.id as never, grant, level, ...ice });
    await this.announce(session);
    return { sessionId: session.id as never, roomId: room.id as never, roomName: room.name, level, ...ice };
  }

  private async signGrant(session: Live): Promise<string> {
    const iat = Math.floor(session.startedAt / 1000);
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
    await this.announce(session, extra);
    // An ended record is final: a late write of an earlier state must not reopen it.
    if (state !== 'ended') await this.store.db.updateTable('sessions').set({ state }).where('id', '=', session.id).where('state', '!=', 'ended').execute();
  }

  /** Tells the user's consoles the session's state. */
  private async announce(session: Live, extra: { reason?: EndReason; code?: ErrorCode; restarting?: boolean } = {}): Promise<void> {
    await this.links.sendToConsoles(session.tenantId, session.userId, { type: 'session.state', sessionId: session.id as never, state: session.state, ...extra });
  }

  /** Ends a session from the server's side: tells the agent, waits briefly for its counts, then closes the record. */
  async end(sessionId: string, reason: EndReason, code?: ErrorCode): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session || session.state === 'ending' || session.state === 'ended') return;
    session.endReason = reason;
    this.clearTimer(session, 'setup');
    session.state = 'ending';
    const told = await this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason });
    if (told) this.timer(session, 'endAck', this.config.endAckMs, () => this.close(session, reason, null));
    await this.setState(session, 'ending', { reason, ...(code && { code }) });
    if (!told) await this.close(session, reason, null);
  }

  /** A console asks to end its own session; the node that runs it ends it. */
  async endByUser(user: ConsoleUser, sessionId: string, forwarded = false): Promise<void> {
    const session = this.live.get(sessionId);
    if (!session && !forwarded && (await this.links.toRunner(sessionId, { kind: 'endByUser', sessionId, tenantId: user.tenantId, userId: user.userId }))) return;
    const running = session ?? (await this.runningOrAdopted(sessionId));
    if (!running || running.tenantId !== user.tenantId || running.userId !== user.userId) {
      if (forwarded) return;
      throw new ApiFailure('session_not_found');
    }
    await this.end(sessionId, 'user_ended');
  }

  private async close(session: Live, reason: EndReason, report: RoomReport | null, code?: ErrorCode): Promise<void> {
    if (session.closing) return;
    session.closing = true;
    for (const handle of session.timers.values()) clearTimeout(handle);
    session.timers.clear();
    this.live.delete(session.id);
    if (this.byRoom.get(session.room.id) === session) this.byRoom.delete(session.room.id);
    await this.links.stopsRunning(session.id);
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

  // From the agent hub (or, `forwarded`, from the node that holds the agent). `roomId` is the authenticated room of the connection.

  async onAgentMessage(roomId: string, message: AgentToServer, forwarded = false): Promise<void> {
    if (!('sessionId' in message)) return;
    let session = this.live.get(message.sessionId);
    if (!session) {
      if (!forwarded && (await this.links.toRunner(message.sessionId, { kind: 'agent', roomId, message }))) return;
      session = await this.runningOrAdopted(message.sessionId);
    }
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
        await this.links.sendToAgent(roomId, { type: 'session.ack', sessionId: session.id as never });
        return;
      case 'session.signal':
        if (session.state !== 'ending') await this.links.sendToConsoles(session.tenantId, session.userId, { type: 'session.signal', sessionId: session.id as never, data: message.data });
        return;
    }
  }

  /** A console's signal for its session; false when it has none by that id. */
  async onConsoleSignal(user: ConsoleUser, sessionId: string, data: SignalData, forwarded = false): Promise<boolean> {
    const session = this.live.get(sessionId) ?? (!forwarded && (await this.links.toRunner(sessionId, { kind: 'consoleSignal', sessionId, tenantId: user.tenantId, userId: user.userId, data })) ? 'elsewhere' : await this.runningOrAdopted(sessionId));
    if (session === 'elsewhere') return true;
    if (!session || session.tenantId !== user.tenantId || session.userId !== user.userId || session.state === 'ending') return false;
    return this.links.sendToAgent(session.room.id, { type: 'session.signal', sessionId: session.id as never, data });
  }

  /** News from another node. */
  async onEvent(event: SessionEvent | NodeEvent): Promise<void> {
    switch (event.kind) {
      case 'consoleSignal':
        await this.onConsoleSignal(event, event.sessionId, event.data, true);
        return;
      case 'endByUser':
        return this.endByUser(event, event.sessionId, true);
      case 'agent':
        return this.onAgentMessage(event.roomId, event.message, true);
      case 'agentPresence':
        return this.agentPresence(event.roomId, event.online);
      case 'consolePresence':
        return this.consolePresence(event.tenantId, event.userId, event.online);
      case 'callState':
        return this.callState(event.roomId, event.inCall);
      case 'reevaluate':
        return this.decideAgain(event.tenantId);
      case 'principal':
        return this.principalChanged(event.principal);
    }
  }

  /**
   * Rule 14: after any change that can lower access (the tenant switch,
   * pointer control, a role or its assignments, a room's location, tags or
   * licence), every live session of the tenant is decided again, on every
   * node. One no longer permitted ends with `access_revoked`; a modify
   * session that dropped to view stops taking keys at the agent at once, and
   * one whose pointer control was withdrawn stops moving the pointer. Never
   * raises anything: that needs a new session and a new grant.
   */
  async reevaluate(tenantId: string): Promise<void> {
    await this.decideAgain(tenantId);
    await this.links.toOthers({ kind: 'reevaluate', tenantId });
  }

  private async decideAgain(tenantId: string): Promise<void> {
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
        await trx.updateTable('sessions').set({ level, pointer: pointer ? 1 : 0 }).where('id', '=', session.id).execute();
        await this.audit.append(trx, { tenantId, type: 'session.lowered', actorId: session.userId, actorName: session.userName, roomId: session.room.id, roomName: session.room.name, sessionId: session.id, data });
      });
      await this.links.sendToAgent(session.room.id, { type: 'session.lower', sessionId: session.id as never, level, pointer });
    }
  }

  /** A token of a user: their groups or directory roles may have changed since their sessions started, on whichever node runs them. */
  async principalSeen(principal: Principal): Promise<void> {
    const key = `${principal.tenantId}\u0000${principal.userId}`;
    const seen = JSON.stringify([[...principal.groups].sort(), [...principal.directoryRoles].sort()]);
    if (this.principals.get(key) === seen) return;
    if (this.principals.size >= 10_000) this.principals.clear();
    this.principals.set(key, seen);
    await this.principalChanged(principal);
    await this.links.toOthers({ kind: 'principal', principal });
  }

  private async principalChanged(principal: Principal): Promise<void> {
    let changed = false;
    for (const session of this.live.values()) {
      if (session.tenantId !== principal.tenantId || session.userId !== principal.userId) continue;
      if (sameMembers(session.principal.groups, principal.groups) && sameMembers(session.principal.directoryRoles, principal.directoryRoles)) continue;
      session.principal = principal;
      await this.store.db.updateTable('sessions').set({ principal: JSON.stringify(principal) }).where('id', '=', session.id).execute();
      changed = true;
    }
    if (changed) await this.decideAgain(principal.tenantId);
  }

  async onCallState(roomId: string, inCall: boolean): Promise<void> {
    if (this.byRoom.has(roomId)) return this.callState(roomId, inCall);
    if (inCall) await this.links.toOthers({ kind: 'callState', roomId, inCall });
  }

  private async callState(roomId: string, inCall: boolean): Promise<void> {
    const session = this.byRoom.get(roomId);
    if (session && inCall) await this.end(session.id, 'call_started');
  }

  async onAgentPresence(roomId: string, online: boolean): Promise<void> {
    if (this.byRoom.has(roomId)) await this.agentPresence(roomId, online);
    // Every node hears it: one may run the room's session, one may still hold the agent's old socket.
    await this.links.toOthers({ kind: 'agentPresence', roomId, online });
  }

  private async agentPresence(roomId: string, online: boolean): Promise<void> {
    const session = this.byRoom.get(roomId);
    if (!session) return;
    // Gone from one node may mean already back through another.
    if (online || (await this.links.agentOnline(roomId))) this.clearTimer(session, 'agentGrace');
    else this.timer(session, 'agentGrace', this.config.graceMs, () => this.close(session, 'control_plane_lost', null));
  }

  async onConsolePresence(tenantId: string, userId: string, online: boolean): Promise<void> {
    await this.consolePresence(tenantId, userId, online);
    await this.links.toOthers({ kind: 'consolePresence', tenantId, userId, online });
  }

  private async consolePresence(tenantId: string, userId: string, online: boolean): Promise<void> {
    const sessions = [...this.live.values()].filter((session) => session.tenantId === tenantId && session.userId === userId);
    if (sessions.length === 0) return;
    // The user may still have a console on another node.
    const connected = online || (await this.links.consoleOnline(tenantId, userId));
    for (const session of sessions) {
      if (connected) this.clearTimer(session, 'consoleGrace');
      else this.timer(session, 'consoleGrace', this.config.graceMs, () => this.end(session.id, 'control_plane_lost'));
    }
  }

  /** The live session of the room, on whichever node runs it (one node alone: one it runs; a previous process's cannot go on). */
  async activeInRoom(roomId: string): Promise<string | null> {
    const local = this.byRoom.get(roomId);
    if (local || !this.links.clustered) return local?.id ?? null;
    return (await this.store.db.selectFrom('sessions').select('id').where('live_room', '=', roomId).executeTakeFirst())?.id ?? null;
  }

  /**
   * On shutdown, one node alone: every live session ends at its room, which
   * keeps its end report, and the record stays open: the next start adopts
   * it and writes the room's own counts and end time when its agent
   * reconnects. In a cluster the node gives its sessions up instead, and the
   * other nodes adopt them at once: media is peer to peer, so the people in
   * them notice nothing.
   */
  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    const sessions = [...this.live.values()];
    if (this.links.clustered) {
      for (const session of sessions) {
        await this.letGo(session);
        await this.store.db.updateTable('sessions').set({ node: null }).where('id', '=', session.id).where('node', '=', this.links.nodeId).execute();
      }
      return;
    }
    this.live.clear();
    this.byRoom.clear();
    for (const session of sessions) {
      for (const handle of session.timers.values()) clearTimeout(handle);
      await this.links.sendToAgent(session.room.id, { type: 'session.end', sessionId: session.id as never, reason: 'control_plane_lost' });
      await this.setState(session, 'ending', { reason: 'control_plane_lost' });
    }
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
