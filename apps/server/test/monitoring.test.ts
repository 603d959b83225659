import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DashboardSummary, HealthSignals, RoomHistory, RoomState, ServerToConsole } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT_REPORTS, HEALTH_BATCH_MS, RoomMonitor } from '../src/monitoring/room-monitor';
import { LogBundles } from '../src/store/log-bundles';
import { openSqlite, sqliteStore } from '../src/store/engine';
import { Directory } from '../src/store/directory';
import { ADMIN, grantAccess, OUTSIDER, startHarness, TECH, VIEWER, type Harness } from './harness';

/** A batched commit that fails in a test fails the test. */
const failTest = (error: unknown) => {
  throw error;
};

/** Live room state and its history: every transition stored once, pushed at once to the consoles that may see the room. */

let h: Harness;
const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };
const health = (signals: HealthSignals) => ({ type: 'agent.health' as const, signals, displays: [] });
const history = (roomId: string, from: string, as = ADMIN) => h.api<RoomHistory>(as, 'GET', `/api/rooms/${roomId}/history?from=${encodeURIComponent(from)}`);
const roomStates = (m: ServerToConsole) => m.type === 'room.states';
/** The pushed state of `roomId` that `matches`, from a console's message, if it holds one. */
const stateOf = (m: ServerToConsole, roomId: string, matches: (state: RoomState) => boolean = () => true) => (m.type === 'room.states' ? m.states.find((s) => s.roomId === roomId && matches(s)) : undefined);

/** A monitor on a database of its own with one room in tenant t1, on a clock the test moves. */
async function monitorOnClock(name: string, start: string) {
  const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'roomlink-monitor-')), 'server.db'));
  const store = sqliteStore(db);
  const clock = { now: new Date(start) };
  const directory = new Directory(store, () => clock.now);
  await directory.ensureTenant('t1');
  const room = await directory.createRoom('t1', { name, locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
  return { db, store, clock, room, monitor: new RoomMonitor(store, directory, () => clock.now, failTest) };
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('room history', () => {
  it('stores each transition of presence, call, signal and health once, and answers a window with the state at its start', async () => {
    const start = new Date(Date.now() - 1000).toISOString();
    const { roomId, agent } = await h.room({ name: 'Watched' });
    agent.send(health(ok));
    agent.send(health(ok));
    agent.send(health({ ...ok, camera: 'error' }));
    agent.send({ type: 'agent.callState', inCall: true });
    await expect.poll(async () => (await history(roomId, start)).body.events.length).toBe(13);
    await agent.close();
    await expect.poll(async () => (await history(roomId, start)).body.events.length).toBe(15);
    const { events, initial } = (await history(roomId, start)).body;
    expect(initial).toEqual([]);
    expect(events.map((e) => `${e.subject}:${e.state}`)).toEqual([
      'presence:online',
      'call:free',
      'health:offline',
      'health:healthy',
      'app:ok',
      'audio:ok',
      'camera:ok',
      'display:ok',
      'network:ok',
      'signIn:ok',
      'health:nonUrgent',
      'camera:error',
      'call:inCall',
      'presence:offline',
      'health:offline',
    ]);
    // A window that opens just after the camera failed starts from the state each subject was in then.
    // (Reports handled in the same millisecond share a time: the call may fall on either side of the window's start.)
    const later = (await history(roomId, new Date(Date.parse(events[11]!.at) + 1).toISOString())).body;
    expect(later.initial.find((e) => e.subject === 'camera')).toMatchObject({ state: 'error' });
    expect([...later.initial, ...later.events].filter((e) => e.subject === 'call').at(-1)).toMatchObject({ state: 'inCall' });
    expect(later.events.map((e) => e.subject).filter((s) => s !== 'call')).toEqual(['presence', 'health']);
  });

  it('refuses a window the wrong way round or over 180 days, and a room the caller may not see', async () => {
    const { roomId } = await h.room({ name: 'Private' });
    expect((await h.api(ADMIN, 'GET', `/api/rooms/${roomId}/history?from=2030-01-01T00:00:00.000Z&to=2029-01-01T00:00:00.000Z`)).status).toBe(400);
    expect((await h.api(ADMIN, 'GET', `/api/rooms/${roomId}/history?from=2020-01-01T00:00:00.000Z`)).status).toBe(400);
    expect((await h.api(ADMIN, 'GET', `/api/rooms/${roomId}/history?from=yesterday`)).status).toBe(400);
    for (const step of ['0', '-5', '1.5', 'pixel', '86401']) expect((await h.api(ADMIN, 'GET', `/api/rooms/${roomId}/history?from=2030-01-01T00:00:00.000Z&step=${step}`)).status).toBe(400);
    expect((await history(roomId, new Date().toISOString(), TECH)).status).toBe(404);
  });

  it('summarises a flapping signal to a step: the worst state of each step from its start, equal steps merged, nothing lost between pixels', async () => {
    const { clock, room, monitor } = await monitorOnClock('Flapping', '2026-03-01T00:00:00.000Z');
    await monitor.observe(room.id, { online: true, signals: ok });
    // Minute by minute for an hour: the camera warns, fails for one minute at 00:17, recovers; then stays ok.
    const camera = (minute: number) => (minute === 17 ? 'error' : minute % 2 ? 'warning' : 'ok');
    for (let minute = 1; minute <= 60; minute += 1) {
      clock.now = new Date(Date.parse('2026-03-01T00:00:30.000Z') + minute * 60_000);
      await monitor.observe(room.id, { signals: { ...ok, camera: minute > 40 ? 'ok' : camera(minute) } });
    }
    const from = '2026-03-01T00:00:00.000Z';
    const to = '2026-03-01T02:00:00.000Z';
    const exact = await monitor.history('t1', room.id, from, to);
    const events = (h: RoomHistory, subject: string) => h.events.filter((e) => e.subject === subject).map((e) => `${e.at.slice(11, 19)} ${e.state}`);
    expect(exact.step).toBeNull();
    expect(events(exact, 'camera')).toHaveLength(41);
    // Ten-minute steps. 00:10-00:20 holds the one-minute error; 00:40-00:50 began in a warning that lasted until 00:40:30,
    // so the camera shows ok from 00:50; the warning steps between are one event.
    const summary = await monitor.history('t1', room.id, from, to, 600);
    expect(summary.step).toBe(600);
    expect(events(summary, 'camera')).toEqual(['00:00:00 warning', '00:10:00 error', '00:20:00 warning', '00:50:00 ok']);
    expect(events(summary, 'presence')).toEqual(['00:00:00 online']);
    expect(summary.events.map((e) => e.at)).toEqual([...summary.events.map((e) => e.at)].sort());
    // One-minute steps from inside the failure: it is the initial state, and 00:18-00:19, which recovered at 00:18:30, is still
    // its step; every later minute held a warning until the camera settled at 00:40:30.
    const later = await monitor.history('t1', room.id, '2026-03-01T00:18:00.000Z', to, 60);
    expect(later.initial.find((e) => e.subject === 'camera')?.state).toBe('error');
    expect(events(later, 'camera')).toEqual(['00:19:00 warning', '00:41:00 ok']);
  });

  it('adds no transition when a restarted server hears the same state again', async () => {
    const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'roomlink-monitor-')), 'server.db'));
    const store = sqliteStore(db);
    const directory = new Directory(store, () => new Date());
    await directory.ensureTenant('t1');
    const room = await directory.createRoom('t1', { name: 'R', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
    const count = () => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM room_events').get()!.n;
    const first = new RoomMonitor(store, directory, () => new Date(), failTest);
    await first.observe(room.id, { online: true });
    await first.observe(room.id, { signals: ok });
    await first.flush();
    const written = count();
    const second = new RoomMonitor(store, directory, () => new Date(), failTest);
    await second.observe(room.id, { online: true });
    await second.observe(room.id, { signals: ok });
    await second.flush();
    expect(count()).toBe(written);
    // The room never came back to this server: settling records it offline, once two passes found it so.
    const third = new RoomMonitor(store, directory, () => new Date(), failTest);
    await third.settle();
    expect(count()).toBe(written);
    await third.settle();
    expect(db.prepare<[], { subject: string; state: string }>("SELECT subject, state FROM room_events WHERE subject IN ('presence', 'health') ORDER BY rowid DESC LIMIT 2").all()).toEqual([
      { subject: 'health', state: 'offline' },
      { subject: 'presence', state: 'offline' },
    ]);
  });
});

describe('settling presence', () => {
  it('records offline only the rooms two passes found held by no node, and leaves alone those that came back between them', async () => {
    const db = openSqlite(join(mkdtempSync(join(tmpdir(), 'roomlink-monitor-')), 'server.db'));
    const store = sqliteStore(db);
    const directory = new Directory(store, () => new Date());
    await directory.ensureTenant('t1');
    const rooms = await Promise.all(['Gone', 'Back here', 'Back elsewhere'].map((name) => directory.createRoom('t1', { name, locationId: null, tags: [], platform: 'synthetic', license: 'pro' })));
    const [gone, here, elsewhere] = rooms.map((room) => room.id) as [string, string, string];
    const before = new RoomMonitor(store, directory, () => new Date(), failTest);
    for (const roomId of [gone, here, elsewhere]) await before.observe(roomId, { online: true });
    // The node that held them is lost; this one settles, while agents come back here and through another node.
    const monitor = new RoomMonitor(store, directory, () => new Date(), failTest);
    const heldElsewhere = new Set<string>();
    const asked: string[][] = [];
    const settle = () => monitor.settle(async (roomIds) => (asked.push(roomIds), new Set(roomIds.filter((roomId) => heldElsewhere.has(roomId)))));
    const presence = (roomId: string) => db.prepare<[string], { state: string }>("SELECT state FROM room_events WHERE room_id = ? AND subject = 'presence' ORDER BY rowid DESC LIMIT 1").get(roomId)!.state;
    await settle();
    expect([gone, here, elsewhere].map(presence)).toEqual(['online', 'online', 'online']);
    await monitor.observe(here, { online: true });
    heldElsewhere.add(elsewhere);
    await settle();
    expect([gone, here, elsewhere].map(presence)).toEqual(['offline', 'online', 'online']);
    // Asked again right before the offline rooms were written, for just those.
    expect(asked.at(-1)).toEqual([gone]);
  });
});

describe('health reports in batches', () => {
  it('commits the reports of many rooms together, tells listeners after the commit, and a presence change commits at once', async () => {
    const { db, store, room, monitor } = await monitorOnClock('A', '2026-01-01T00:00:00.000Z');
    const other = await new Directory(store, () => new Date()).createRoom('t1', { name: 'B', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
    const count = () => db.prepare<[], { n: number }>('SELECT count(*) AS n FROM room_events').get()!.n;
    const heard: string[] = [];
    monitor.onChange((changes) => heard.push(changes.map((change) => `${change.room.name}:${change.events.length}`).join(' ')));
    await monitor.observe(room.id, { online: true });
    await monitor.observe(other.id, { online: true });
    const online = count();
    expect(heard).toEqual(['A:3', 'B:3']);
    await monitor.observe(room.id, { signals: ok });
    await monitor.observe(other.id, { signals: { ...ok, camera: 'error' } });
    expect(count()).toBe(online);
    expect(heard).toHaveLength(2);
    // One commit, heard once with both rooms.
    await expect.poll(() => heard.length, { timeout: 2 * HEALTH_BATCH_MS + 500 }).toBe(3);
    expect(heard[2]!.split(' ').sort()).toEqual(['A:7', 'B:7']);
    expect(count()).toBe(online + 2 * 7);
    // A health report followed by a presence change: both land now, in order.
    await monitor.observe(room.id, { signals: { ...ok, audio: 'error' } });
    await monitor.observe(room.id, { online: false });
    expect(heard.slice(3)).toEqual(['A:2 A:2']);
    // A call starting gates sessions (no session while the room is in a call): it is in the database before observe returns.
    await monitor.observe(other.id, { inCall: true });
    expect(db.prepare<[string], { in_call: number }>('SELECT in_call FROM rooms WHERE id = ?').get(other.id)).toEqual({ in_call: 1 });
  });

  it('commits many rooms coming online at once in a few short transactions, each room online once its observe returns', async () => {
    const { db, store, monitor } = await monitorOnClock('A', '2026-01-01T00:00:00.000Z');
    const directory = new Directory(store, () => new Date());
    const rooms = await Promise.all(Array.from({ length: 250 }, (_, i) => directory.createRoom('t1', { name: `R${i}`, locationId: null, tags: [], platform: 'synthetic', license: 'pro' })));
    const heard: number[] = [];
    monitor.onChange((changes) => heard.push(changes.length));
    // Agents arriving together after their node was lost: each observe waits for the commit that holds its room.
    await Promise.all(
      rooms.map(async (room) => {
        await monitor.observe(room.id, { online: true });
        expect(db.prepare<[string], { online: number }>('SELECT online FROM rooms WHERE id = ?').get(room.id)).toEqual({ online: 1 });
      }),
    );
    expect(heard.reduce((sum, n) => sum + n, 0)).toBe(250);
    // The first commit takes the first room; all the others wait for it and share the next ones: transactions of at most 100 (short, as another node may be waiting for one of their rooms).
    expect(heard.length).toBeLessThanOrEqual(4);
    expect(Math.max(...heard)).toBeLessThanOrEqual(COMMIT_REPORTS);
  });

  it('reads a room’s report after its own presence change in the same commit as coming from the room online', async () => {
    const { db, store, room, monitor } = await monitorOnClock('A', '2026-01-01T00:00:00.000Z');
    const other = await new Directory(store, () => new Date()).createRoom('t1', { name: 'B', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
    // While the other room's commit runs, this room comes online and reports its health: both go in the next commit.
    const first = monitor.observe(other.id, { online: true });
    const online = monitor.observe(room.id, { online: true });
    await monitor.observe(room.id, { signals: ok });
    await Promise.all([first, online]);
    await monitor.flush();
    expect(db.prepare<[string], { online: number }>('SELECT online FROM rooms WHERE id = ?').get(room.id)).toEqual({ online: 1 });
    expect(db.prepare<[string], { state: string }[]>("SELECT state FROM room_events WHERE room_id = ? AND subject = 'presence' ORDER BY rowid").all(room.id)).toEqual([{ state: 'online' }]);
  });

  it('keeps nothing of a batch whose commit fails, and hears the same report again afterwards', async () => {
    const { db, room, monitor } = await monitorOnClock('A', '2026-01-01T00:00:00.000Z');
    await monitor.observe(room.id, { online: true });
    const before = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM room_events').get()!.n;
    // Another writer holds the database: this connection's commit cannot happen.
    db.pragma('busy_timeout = 0');
    const file = db.name;
    const blocker = openSqlite(file);
    blocker.exec('BEGIN IMMEDIATE');
    await monitor.observe(room.id, { signals: { ...ok, camera: 'error' } });
    await expect(monitor.flush()).rejects.toThrow(/locked|busy/i);
    blocker.exec('ROLLBACK');
    blocker.close();
    expect(db.prepare<[], { n: number }>('SELECT count(*) AS n FROM room_events').get()!.n).toBe(before);
    await monitor.observe(room.id, { signals: { ...ok, camera: 'error' } });
    await monitor.flush();
    expect(db.prepare<[], { state: string }>("SELECT state FROM room_events WHERE subject = 'camera' ORDER BY rowid DESC LIMIT 1").get()).toEqual({ state: 'error' });
  });
});

describe('retention', () => {
  it('drops room events after 180 days and log bundles after 30, and keeps the newer ones', async () => {
    const { store, clock, room, monitor } = await monitorOnClock('R', '2026-01-01T00:00:00.000Z');
    const bundles = new LogBundles(store, () => clock.now);
    // Online: three events (presence, call, health). A month and a half later, offline: one more (presence).
    await monitor.observe(room.id, { online: true });
    clock.now = new Date('2026-02-15T00:00:00.000Z');
    await monitor.observe(room.id, { online: false });
    clock.now = new Date('2026-06-01T00:00:00.000Z');
    const oldBundle = (await bundles.request('t1', room.id, 'Adele')).bundle;
    clock.now = new Date('2026-07-01T00:00:00.000Z');
    const newBundle = (await bundles.request('t1', room.id, 'Adele')).bundle;
    clock.now = new Date('2026-07-10T00:00:00.000Z');
    expect(await monitor.purge()).toBe(3);
    expect((await monitor.history('t1', room.id, '2026-01-15T00:00:00.000Z', '2026-07-10T00:00:00.000Z')).events.map((e) => `${e.subject}:${e.state}`)).toEqual(['presence:offline']);
    expect(await bundles.purge()).toBe(1);
    expect([(await bundles.get('t1', oldBundle.id))?.id, (await bundles.get('t1', newBundle.id))?.id]).toEqual([undefined, newBundle.id]);
  });
});

describe('live state', () => {
  it('pushes each change to the consoles that may see the room, and to no one else', async () => {
    const { roomId, agent } = await h.room({ name: 'Pushed' });
    await grantAccess(h, 'view', 'room-observers', { rooms: [roomId] });
    const viewer = await h.consoleSocket(VIEWER);
    const tech = await h.consoleSocket(TECH);
    const outsider = await h.consoleSocket(OUTSIDER);
    agent.send(health({ ...ok, network: 'error' }));
    const pushed = await viewer.next((m) => stateOf(m, roomId, (s) => s.health === 'critical') !== undefined);
    expect(stateOf(pushed, roomId)).toMatchObject({ online: true, inCall: false, signals: { network: 'error' } });
    await agent.close();
    expect(stateOf(await viewer.next((m) => stateOf(m, roomId, (s) => !s.online) !== undefined), roomId)).toMatchObject({ health: 'offline' });
    expect(tech.messages.filter(roomStates)).toEqual([]);
    expect(outsider.messages.filter(roomStates)).toEqual([]);
  });

  it('pushes rooms committed together in one message, each console hearing only the rooms it may see', async () => {
    const seen = await h.room({ name: 'Seen' });
    const unseen = await h.room({ name: 'Unseen' });
    await grantAccess(h, 'view', 'room-observers', { rooms: [seen.roomId] });
    const viewer = await h.consoleSocket(VIEWER);
    const admin = await h.consoleSocket(ADMIN);
    seen.agent.send(health({ ...ok, camera: 'warning' }));
    unseen.agent.send(health({ ...ok, camera: 'warning' }));
    const both = await admin.next((m) => stateOf(m, seen.roomId, (s) => s.health === 'nonUrgent') !== undefined && stateOf(m, unseen.roomId, (s) => s.health === 'nonUrgent') !== undefined);
    expect(both.type === 'room.states' && both.states).toHaveLength(2);
    await viewer.next((m) => stateOf(m, seen.roomId, (s) => s.health === 'nonUrgent') !== undefined);
    expect(viewer.messages.filter((m) => stateOf(m, unseen.roomId))).toEqual([]);
  });
});

describe('the dashboard', () => {
  it('counts what each caller may see: rooms by health and in a call, open incidents by severity with the newest, sessions for audit readers only', async () => {
    const fast = await startHarness({ incidentEveryMs: 50 });
    try {
      const well = await fast.room({ name: 'Well' });
      const broken = await fast.room({ name: 'Broken' });
      const gone = await fast.room({ name: 'Gone' });
      well.agent.send(health(ok));
      broken.agent.send(health({ ...ok, network: 'error' }));
      gone.agent.send(health(ok));
      well.agent.send({ type: 'agent.callState', inCall: true });
      await gone.agent.close();
      // The observers may read the broken room only.
      await fast.api(ADMIN, 'POST', '/api/roles', { name: 'Readers', permissions: ['rooms.read'], assignments: [{ groups: ['room-observers'], rooms: [broken.roomId] }] });
      const dashboard = async (as: string) => (await fast.api<DashboardSummary>(as, 'GET', '/api/dashboard')).body;
      await expect.poll(async () => (await dashboard(ADMIN)).rooms).toEqual({ total: 3, byHealth: { healthy: 1, nonUrgent: 0, critical: 1, offline: 1 }, inCall: 1 });
      expect((await dashboard(ADMIN)).sessionsInProgress).toBe(0);
      expect(await dashboard(VIEWER)).toEqual({ rooms: { total: 1, byHealth: { healthy: 0, nonUrgent: 0, critical: 1, offline: 0 }, inCall: 0 }, incidents: { open: { critical: 0, warning: 0 }, newest: [] }, sessionsInProgress: null });
      // Past the rules' thresholds: the network has failed for 2 minutes, the gone room has been offline for 5.
      fast.clock.offsetMs += 6 * 60_000;
      await expect.poll(async () => (await dashboard(ADMIN)).incidents.open).toEqual({ critical: 2, warning: 0 });
      expect((await dashboard(ADMIN)).incidents.newest.map((i) => i.roomName).sort()).toEqual(['Broken', 'Gone']);
      expect((await dashboard(VIEWER)).incidents).toMatchObject({ open: { critical: 1, warning: 0 }, newest: [{ roomName: 'Broken', cause: 'signal.network' }] });
      // Someone who may see nothing sees zeros, not an error.
      expect((await dashboard(TECH)).rooms.total).toBe(0);
      expect((await fast.api(OUTSIDER, 'GET', '/api/dashboard')).body).toMatchObject({ rooms: { total: 0 } });
    } finally {
      await fast.close();
    }
  });
});

describe('incidents over the API', () => {
  it('opens from a failing signal, pushes it, and lets incident managers acknowledge, assign, note and resolve it; bad input gets a clear error', async () => {
    const fast = await startHarness({ incidentEveryMs: 50 });
    try {
      const { roomId, agent } = await fast.room({ name: 'Incident room' });
      // The observers may read the room (and so its incidents), not manage its incidents.
      await fast.api(ADMIN, 'POST', '/api/roles', { name: 'Readers', permissions: ['rooms.read'], assignments: [{ groups: ['room-observers'], rooms: [roomId] }] });
      await grantAccess(fast, 'view', 'room-technicians', { rooms: [roomId] });
      const watcher = await fast.consoleSocket(VIEWER);
      const remoteOnly = await fast.consoleSocket(TECH);
      agent.send(health({ ...ok, display: 'error' }));
      await expect.poll(async () => (await fast.api<RoomHistory>(ADMIN, 'GET', `/api/rooms/${roomId}/history?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).body.events.some((e) => e.subject === 'display')).toBe(true);
      fast.clock.offsetMs += 3 * 60_000;
      const pushed = await watcher.next((m) => m.type === 'incident.changed');
      expect(pushed).toMatchObject({ incident: { roomName: 'Incident room', cause: 'signal.display', severity: 'critical', state: 'detected' } });
      const id = (pushed as Extract<ServerToConsole, { type: 'incident.changed' }>).incident.id;
      expect((await fast.api<{ id: string }[]>(VIEWER, 'GET', '/api/incidents?state=open')).body.map((i) => i.id)).toEqual([id]);
      // Remote access alone does not read incidents.
      expect((await fast.api(TECH, 'GET', '/api/incidents')).body).toEqual([]);
      expect(remoteOnly.messages.filter((m) => m.type === 'incident.changed')).toEqual([]);

      // Reading is not managing.
      expect((await fast.api(VIEWER, 'POST', `/api/incidents/${id}/acknowledge`)).status).toBe(403);
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/acknowledge`)).body).toMatchObject({ state: 'active' });
      expect((await fast.api<{ error: { code: string } }>(ADMIN, 'POST', `/api/incidents/${id}/acknowledge`)).body.error.code).toBe('conflict');
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/assign`, { userId: 'u-tech', name: 'Tomas Technician' })).body).toMatchObject({ state: 'investigating', assigneeName: 'Tomas Technician' });
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/notes`, { text: 'x'.repeat(4001) })).status).toBe(400);
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/notes`, { text: '   ' })).status).toBe(400);
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/notes`, { text: 'Display cable replaced.' })).status).toBe(200);
      expect((await fast.api(ADMIN, 'POST', `/api/incidents/${id}/resolve`)).body).toMatchObject({ state: 'resolved', autoResolved: false });
      expect((await fast.api(ADMIN, 'POST', '/api/incidents/nope/resolve')).status).toBe(400);
      const detail = await fast.api<{ timeline: { kind: string }[] }>(VIEWER, 'GET', `/api/incidents/${id}`);
      expect(detail.body.timeline.map((e) => e.kind)).toEqual(['opened', 'acknowledged', 'assigned', 'note', 'resolved']);
      const csv = (await fast.api<string>(ADMIN, 'GET', '/api/incidents.csv')).body.trim().split('\r\n');
      expect(csv[0]).toBe('id,roomName,cause,severity,state,openedAt,updatedAt,resolvedAt,autoResolved,reopened,assigneeName');
      expect(csv[1]).toContain(`${id},Incident room,signal.display,critical,resolved`);

      expect((await fast.api(TECH, 'PUT', '/api/settings/incident-rules', (await fast.api(ADMIN, 'GET', '/api/settings/incident-rules')).body)).status).toBe(403);
      expect((await fast.api(ADMIN, 'PUT', '/api/settings/incident-rules', { signalErrorMinutes: 0 })).status).toBe(400);
    } finally {
      await fast.close();
    }
  });
});
