import { HealthSignal, roomHealth, stateLevel, stateLevels, type DisplayInfo, type HealthSignals, type RoomEvent, type RoomHistory, type RoomId, type RoomState, type RoomSubject } from '@roomlink/shared';
import { sql, type Kysely } from 'kysely';
import { retryingDeadlocks, reusable, type Store } from '../store/engine';
import type { Tables } from '../store/schema';
import type { Directory, RoomRecord } from '../store/directory';

/** How long room events are kept: as long as the audit (rule 12's 180 days). */
export const HISTORY_RETENTION_DAYS = 180;

/**
 * How long a health report may wait to be committed with the others that
 * arrive meanwhile: at 10,000 rooms that is one commit every 200 ms instead
 * of one per report (167 a second), and a push 200 ms later at worst, well
 * inside the second a console may wait. Measured against 50 ms in one period
 * (npm run bench -- monitoring): 0.6–1.1 % of a core less server CPU.
 */
export const HEALTH_BATCH_MS = 200;

/**
 * Rooms recorded offline by one commit when settling. A lost node's 10,000
 * rooms in one transaction held the node's commits (every agent's welcome
 * waits for one) for tens of seconds, and locked those rooms against the
 * nodes their agents were coming back through.
 */
const SETTLE_BATCH = 200;
/** Rooms asked about at once when settling (see `unheldOf`). */
const SETTLE_ASK = 1_000;

/**
 * Reports in one transaction at most. A node's commits run one after
 * another, each ending in an fsync (about 20 ms here): one report a commit
 * welcomed at most ~45 agents a second per node, and a lost node's 10,000
 * agents took minutes to come back. A transaction holds its rooms' rows
 * until it commits, so it stays small: another node writing one of those
 * rooms waits that long.
 */
export const COMMIT_REPORTS = 100;

/** A subject's state and when it began. */
export interface Recorded {
  state: string;
  at: string;
}

export interface RoomChange {
  room: RoomRecord;
  /** As consoles are told it. */
  state: RoomState;
  /** What changed, as stored in the history. */
  events: RoomEvent[];
}

/** A report waiting for its commit, numbered in the order it came. */
interface Report {
  roomId: string;
  observation: Observation;
  at: string;
  number: number;
}

/** What an agent says about its room; `online` comes from the agent hub (a proven connection, or none). */
export interface Observation {
  online?: boolean;
  signals?: HealthSignals;
  inCall?: boolean;
  displays?: DisplayInfo[];
}

const subjectStates = (online: boolean, room: Pick<RoomRecord, 'signals' | 'inCall'>): Map<RoomSubject, string> => {
  const states = new Map<RoomSubject, string>([
    ['presence', online ? 'online' : 'offline'],
    ['call', room.inCall ? 'inCall' : 'free'],
    ['health', roomHealth(online, room.signals)],
  ]);
  if (room.signals) for (const signal of HealthSignal.options) states.set(signal, room.signals[signal]);
  return states;
};

/**
 * Every change of a room's state in one place: it updates the directory,
 * writes each transition (presence, call, each signal, overall health) to
 * the history in the same transaction, and tells listeners (the console
 * hub's push, incident rules) once it is committed.
 */
export class RoomMonitor {
  private readonly online = new Set<string>();
  /** Reports not yet committed, in the order they came, each with the time it came. */
  private pending: Report[] = [];
  /** The number of the last report taken, and who waits for which report to be committed. */
  private taken = 0;
  private waiters: { upTo: number; settle: (failure: unknown) => void }[] = [];
  private draining = false;
  private batchTimer: NodeJS.Timeout | undefined;
  /** Each room's last recorded state per subject and since when, read from the history once: a server restart adds no false transitions. */
  private readonly recorded = new Map<string, { tenantId: string; states: Map<RoomSubject, Recorded> }>();
  /** Rooms whose recorded states were read, changed or forgotten since the incident rules last asked (`takeChanged`). */
  private readonly changed = new Set<string>();
  private readonly listeners = new Set<(changes: readonly RoomChange[]) => void>();
  /** Run for every transition of every room: built once. */
  private readonly insertEvent;
  /** Rooms the last `settle` found held by no node: offline if the next finds them so still. */
  private unheld = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly now: () => Date,
    /** Where a failed commit of batched health reports goes: the batch timer has no caller to throw to. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.insertEvent = reusable(store.db, (db, value: (name: 'tenantId' | 'roomId' | 'at' | 'subject' | 'state') => string) =>
      db.insertInto('room_events').values({ tenant_id: value('tenantId'), room_id: value('roomId'), at: value('at'), subject: value('subject'), state: value('state') }),
    );
  }

  /** Each subject's newest event for the room, before `before` if given; by the room's index (tenant, room, time). */
  private latest(db: Kysely<Tables>, tenantId: string, roomId: string, before: string | null) {
    return db
      .selectFrom('room_events')
      .select(['at', 'subject', 'state'])
      .where('rowid', 'in', (eb) =>
        eb
          .selectFrom('room_events')
          .select((e) => e.fn.max('rowid').as('rowid'))
          .where('tenant_id', '=', tenantId)
          .where('room_id', '=', roomId)
          .$if(before !== null, (w) => w.where('at', '<', before!))
          .groupBy('subject'),
      )
      .execute() as Promise<RoomEvent[]>;
  }

  /**
   * Rooms the history last saw online and no node holds now are recorded
   * offline once two passes, far enough apart for agents to reconnect, find
   * them so: a room whose agent went away while the server was down, or
   * whose node died and which never came back through another. A room found
   * unheld only once may be an agent on its way back (after a node's loss,
   * thousands are): nothing is written for it. `heldElsewhere` names the
   * rooms another node holds (in a cluster, where this runs again and
   * again); it is asked again before each commit, since agents keep coming
   * back while the offline rooms are written.
   */
  async settle(heldElsewhere: (roomIds: string[]) => Promise<Set<string>> = async () => new Set()): Promise<void> {
    // A room's row says what its latest presence event says: the monitor writes both in one transaction.
    const recorded = await this.store.db.selectFrom('rooms').select('id').where('online', '=', 1).execute();
    const unheld = await this.unheldOf(recorded.map((row) => row.id), heldElsewhere);
    const suspects = this.unheld;
    this.unheld = new Set(unheld);
    const gone = unheld.filter((roomId) => suspects.has(roomId));
    for (let i = 0; i < gone.length; i += SETTLE_BATCH) {
      const at = this.now().toISOString();
      for (const roomId of await this.unheldOf(gone.slice(i, i + SETTLE_BATCH), heldElsewhere)) this.take(roomId, { online: false }, at);
      await this.flush();
    }
  }

  /**
   * The rooms no node holds, asked SETTLE_ASK at a time: a cluster's other
   * nodes hold tens of thousands of rooms, and Redis, which carries every
   * node's signaling, answers one question at a time (see `agentNodes`).
   */
  private async unheldOf(roomIds: string[], heldElsewhere: (roomIds: string[]) => Promise<Set<string>>): Promise<string[]> {
    const notHere = roomIds.filter((roomId) => !this.online.has(roomId));
    const unheld: string[] = [];
    for (let i = 0; i < notHere.length; i += SETTLE_ASK) {
      const some = notHere.slice(i, i + SETTLE_ASK);
      const elsewhere = await heldElsewhere(some);
      unheld.push(...some.filter((roomId) => !elsewhere.has(roomId) && !this.online.has(roomId)));
    }
    return unheld;
  }

  isOnline(roomId: string): boolean {
    return this.online.has(roomId);
  }

  /** Hears each committed batch's changes (those with events), once per commit. */
  onChange(listener: (changes: readonly RoomChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes what an agent said. Presence and call state gate sessions: they,
   * and every report before them, are committed before this returns. Health
   * reports wait up to `HEALTH_BATCH_MS` to share one commit.
   */
  async observe(roomId: string, observation: Observation): Promise<void> {
    this.take(roomId, observation, this.now().toISOString());
    if (observation.online !== undefined || observation.inCall !== undefined) await this.flush();
    else this.batchTimer ??= setTimeout(() => void this.flush().catch(this.onError), HEALTH_BATCH_MS).unref();
  }

  private take(roomId: string, observation: Observation, at: string): void {
    this.pending.push({ roomId, observation, at, number: ++this.taken });
  }

  /**
   * Commits every pending report, then tells the listeners; resolves once
   * every report taken before the call is committed. Commits run one after
   * another, so each reads what the one before wrote, and each takes what
   * is pending when it starts, up to `COMMIT_REPORTS` (group commit):
   * hundreds of agents arriving at once after a node's loss are a few
   * transactions, not one each. If a commit fails nothing of it is kept, in
   * the database or in memory (each room's recorded states are read again
   * when next needed), and those waiting for its reports hear why.
   */
  flush(): Promise<void> {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ upTo: this.taken, settle: (failure) => (failure === null ? resolve() : reject(failure)) }));
    if (!this.draining) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    for (let batch = this.pending.splice(0, COMMIT_REPORTS); ; batch = this.pending.splice(0, COMMIT_REPORTS)) {
      const failure = batch.length === 0 ? null : await this.commit(batch).then(() => null, (error: unknown) => error);
      // Everyone waiting for these reports (or for nothing not yet committed) hears how it went.
      const upTo = this.pending[0] ? this.pending[0].number - 1 : this.taken;
      const waiting = this.waiters;
      this.waiters = waiting.filter((waiter) => waiter.upTo > upTo);
      for (const waiter of waiting) if (waiter.upTo <= upTo) waiter.settle(waiter.upTo >= (batch[0]?.number ?? Infinity) ? failure : null);
      if (this.pending.length === 0 && this.waiters.length === 0) break;
    }
    this.draining = false;
  }

  private async commit(batch: readonly Report[]): Promise<void> {
    if (batch.length === 0) return;
    let changes: (RoomChange & { isOnline: boolean })[];
    // Rooms in one order on every node (a room's own reports keep theirs): two nodes' batches over the same rooms wait for each other instead of deadlocking.
    const ordered = [...batch].sort((a, b) => (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
    let tries = 0;
    try {
      changes = await retryingDeadlocks(this.store, () => {
        // A retry starts from what the database holds, not from what the failed attempt left in memory.
        if (tries++ > 0) for (const { roomId } of batch) this.drop(roomId);
        return this.store.db.transaction().execute(async (trx) => {
          const applied: (RoomChange & { isOnline: boolean })[] = [];
          // Presence as this transaction has it so far: a room's report after its own presence change in the same batch follows it.
          const online = new Map<string, boolean>();
          for (const { roomId, observation, at } of ordered) {
            const isOnline = observation.online ?? online.get(roomId) ?? this.online.has(roomId);
            online.set(roomId, isOnline);
            const change = await this.apply(trx, roomId, observation, isOnline, at);
            if (change) applied.push(change);
          }
          for (const { room, events } of applied) for (const e of events) await this.insertEvent(trx, { tenantId: room.tenantId, roomId: room.id, at: e.at, subject: e.subject, state: e.state });
          return applied;
        });
      });
    } catch (error) {
      for (const { roomId } of batch) this.drop(roomId);
      throw error;
    }
    for (const change of changes) {
      if (change.isOnline) this.online.add(change.room.id);
      else this.online.delete(change.room.id);
    }
    const heard = changes.filter((change) => change.events.length > 0);
    if (heard.length > 0) for (const listener of this.listeners) listener(heard);
  }

  private async apply(trx: Kysely<Tables>, roomId: string, observation: Observation, isOnline: boolean, at: string): Promise<(RoomChange & { isOnline: boolean }) | null> {
    const room = await this.record(trx, roomId, observation, isOnline, at);
    if (!room) return null;
    const was = await this.recordedStates(trx, room);
    const events: RoomEvent[] = [];
    for (const [subject, state] of subjectStates(isOnline, room)) {
      if (was.get(subject)?.state === state) continue;
      was.set(subject, { state, at });
      events.push({ at, subject, state });
    }
    if (events.length > 0) this.changed.add(roomId);
    const state: RoomState = { roomId: roomId as RoomId, online: isOnline, inCall: room.inCall, signals: room.signals, health: room.health, lastSeenAt: room.lastSeenAt };
    return { room, state, events, isOnline };
  }

  /**
   * Writes what the report says and returns the room as it now stands. A
   * health report (most of them, at 10,000 rooms) says everything the write
   * needs: one statement. Presence and call changes read the room first.
   */
  private async record(trx: Kysely<Tables>, roomId: string, observation: Observation, isOnline: boolean, at: string): Promise<RoomRecord | undefined> {
    const { signals, displays } = observation;
    if (signals && displays && observation.online === undefined && observation.inCall === undefined) {
      return this.directory.recordHealth(roomId, { signals, displays, health: roomHealth(isOnline, signals) }, trx);
    }
    const before = await this.directory.roomById(roomId, trx);
    if (!before) return undefined;
    const room: RoomRecord = {
      ...before,
      signals: signals ?? before.signals,
      inCall: observation.inCall ?? before.inCall,
      displays: displays ?? before.displays,
      lastSeenAt: observation.online === undefined ? before.lastSeenAt : at,
    };
    room.health = roomHealth(isOnline, room.signals);
    room.online = isOnline;
    await this.directory.recordAgentState(roomId, room, trx);
    return room;
  }

  private async recordedStates(trx: Kysely<Tables>, room: RoomRecord): Promise<Map<RoomSubject, Recorded>> {
    let entry = this.recorded.get(room.id);
    if (!entry) {
      entry = { tenantId: room.tenantId, states: new Map((await this.latest(trx, room.tenantId, room.id, null)).map((row) => [row.subject, { state: row.state, at: row.at }])) };
      this.recorded.set(room.id, entry);
      this.changed.add(room.id);
    }
    return entry.states;
  }

  private drop(roomId: string): void {
    this.recorded.delete(roomId);
    this.changed.add(roomId);
  }

  /**
   * The rooms whose recorded states this server read, changed or forgot
   * since the last call: what incident rules need to look at again (after a
   * `flush`). At 10,000 rooms a node, a pass over every room every few
   * seconds held the event loop for tens of milliseconds; the changes of a
   * few seconds are a handful.
   */
  takeChanged(): string[] {
    const rooms = [...this.changed];
    this.changed.clear();
    return rooms;
  }

  /** A room's recorded state per subject and since when, with its tenant; undefined when this server has not heard of it. */
  recordedOf(roomId: string): { tenantId: string; states: ReadonlyMap<RoomSubject, Recorded> } | undefined {
    return this.recorded.get(roomId);
  }

  /**
   * The room is online here after another node recorded it offline (its
   * agent moved while that node wrote): what this node remembers of its
   * history is stale, so it is read again and the room recorded online.
   */
  recordOnlineAgain(roomId: string): Promise<void> {
    this.drop(roomId);
    return this.observe(roomId, { online: true });
  }

  /** Forgets a retired room. */
  forget(roomId: string): void {
    this.pending = this.pending.filter((report) => report.roomId !== roomId);
    this.drop(roomId);
    this.online.delete(roomId);
  }

  /**
   * The room's events between `from` and `to`, with each subject's state as
   * it stood at `from`; with a `step` (seconds), summarised to the worst
   * state of each step (see `RoomHistory`), so a month of a flapping room is
   * a few events per change of the picture, not one per change of the room.
   */
  async history(tenantId: string, roomId: string, from: string, to: string, step: number | null = null): Promise<RoomHistory> {
    await this.flush();
    const initial = await this.latest(this.store.db, tenantId, roomId, from);
    const events = step
      ? await this.summary(tenantId, roomId, from, to, step, initial)
      : ((await this.store.db
          .selectFrom('room_events')
          .select(['at', 'subject', 'state'])
          .where('tenant_id', '=', tenantId)
          .where('room_id', '=', roomId)
          .where('at', '>=', from)
          .where('at', '<', to)
          .orderBy('at')
          .orderBy('rowid')
          .execute()) as RoomEvent[]);
    return { from, to, step, initial, events };
  }

  /**
   * Each subject's worst state per step, from the step's start, where it
   * differs from the step before. A step's worst counts the state it began
   * in (the last of the step before), so a failure that ends inside a step
   * colours all of it, and a brief one never falls between two. The steps
   * are grouped in SQL (a month of a busy room is tens of thousands of rows,
   * too many to carry out one by one): the worst state and the last.
   */
  private async summary(tenantId: string, roomId: string, from: string, to: string, step: number, initial: readonly RoomEvent[]): Promise<RoomEvent[]> {
    const fromMs = Date.parse(from);
    const steps = Math.ceil((Date.parse(to) - fromMs) / (step * 1000));
    const startOf = (index: number) => new Date(fromMs + index * step * 1000).toISOString();
    const worse = (a: string | null, b: string) => (a !== null && (stateLevel(a) ?? 0) > (stateLevel(b) ?? 0) ? a : b);
    const out: RoomEvent[] = [];
    const bySubject = new Map<RoomSubject, { step: number; last: string; worst: string }[]>();
    const { dialect } = this.store;
    // The level is a single digit before the state, so the largest string is the worst state; times sort as ISO strings, and rowid breaks a tie.
    const level = sql.raw(`CASE state ${Object.entries(stateLevels).map(([state, n]) => `WHEN '${state}' THEN ${n}`).join(' ')} ELSE 0 END`);
    const grouped = await this.store.db
      .selectFrom('room_events')
      .select([
        'subject',
        dialect.stepOf(sql.ref('at'), from, step).as('step'),
        sql<string>`max(at || '|' || ${dialect.paddedRowid(sql.ref('rowid'))} || '|' || state)`.as('last'),
        sql<string>`max((${level}) || state)`.as('worst'),
      ])
      .where('tenant_id', '=', tenantId)
      .where('room_id', '=', roomId)
      .where('at', '>=', from)
      .where('at', '<', to)
      .groupBy(['subject', sql.ref('step')])
      .orderBy('subject')
      .orderBy(sql.ref('step'))
      .execute();
    for (const { subject, ...group } of grouped as { subject: RoomSubject; step: number; last: string; worst: string }[]) {
      const groups = bySubject.get(subject);
      if (groups) groups.push(group);
      else bySubject.set(subject, [group]);
    }
    for (const [subject, groups] of bySubject) {
      /** The state the subject is in at the start of the next step, and the one the summary last gave. */
      let current = initial.find((e) => e.subject === subject)?.state ?? null;
      let shown = current;
      let next = 0;
      const show = (index: number, state: string) => {
        if (state !== shown) out.push({ at: startOf(index), subject, state });
        shown = state;
      };
      for (const group of groups) {
        // Steps without a change hold the state the last one ended in.
        if (group.step > next && current !== null) show(next, current);
        show(group.step, worse(current, group.worst.slice(1)));
        current = group.last.slice(group.last.lastIndexOf('|') + 1);
        next = group.step + 1;
      }
      if (next < steps && current !== null) show(next, current);
    }
    return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /** Drops events older than the retention; returns how many. */
  async purge(): Promise<number> {
    const cutoff = new Date(this.now().getTime() - HISTORY_RETENTION_DAYS * 86_400_000).toISOString();
    return Number((await this.store.db.deleteFrom('room_events').where('at', '<', cutoff).executeTakeFirst()).numDeletedRows);
  }
}

