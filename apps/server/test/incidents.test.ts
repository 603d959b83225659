import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HealthSignals } from '@roomlink/shared';
import { beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE, CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog } from '../src/audit/log';
import { Incidents } from '../src/monitoring/incidents';
import { RoomMonitor } from '../src/monitoring/room-monitor';
import { openStore, type Store } from '../src/store/engine';
import { Directory, type RoomRecord } from '../src/store/directory';

/** A batched commit that fails in a test fails the test. */
const failTest = (error: unknown) => {
  throw error;
};

/** Incident rules with a controlled clock: open after the cause has lasted, one per cause under flapping, resolve by themselves, reopen. */

const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };
const keys = generateKeyPairSync('ed25519');
const admin = { id: 'u-admin', name: 'Adele Admin' };

let clock: { t: number };
let store: Store;
let monitor: RoomMonitor;
let incidents: Incidents;
let audit: AuditLog;
let room: RoomRecord;

/** Moves the clock to `seconds` after the start and runs the rules, as the server's timer does. */
const at = (seconds: number) => {
  clock.t = Date.parse('2026-12-01T08:00:00.000Z') + seconds * 1000;
};
const run = async (seconds: number) => {
  at(seconds);
  await incidents.evaluate();
};
const camera = async (status: 'ok' | 'error', seconds: number) => {
  at(seconds);
  await monitor.observe(room.id, { signals: { ...ok, camera: status } });
};
const all = () => incidents.list('t1', {}, null);

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-incidents-'));
  clock = { t: 0 };
  at(0);
  const now = () => new Date(clock.t);
  store = await openStore({ engine: 'sqlite', file: join(dir, 'server.db') });
  const directory = new Directory(store, now);
  await directory.ensureTenant('t1');
  room = await directory.createRoom('t1', { name: 'Fjord', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
  monitor = new RoomMonitor(store, directory, now, failTest);
  audit = await AuditLog.open(store, keys, new CheckpointFile(join(dir, CHECKPOINT_FILE)), now);
  incidents = new Incidents(store, directory, monitor, audit, now);
  await monitor.observe(room.id, { online: true, signals: ok });
});

describe('incident rules', () => {
  it('open one incident once a signal has been in error for two minutes, with the signal’s severity', async () => {
    await camera('error', 10);
    await run(60);
    expect(await all()).toEqual([]);
    await run(131);
    expect(await all()).toEqual([expect.objectContaining({ roomName: 'Fjord', cause: 'signal.camera', severity: 'warning', state: 'detected', openedAt: '2026-12-01T08:02:11.000Z' })]);
    await run(140);
    expect(await all()).toHaveLength(1);
  });

  it('never open a second incident for a flapping signal, and resolve by themselves once it has been fine for two minutes', async () => {
    await camera('error', 0);
    await run(125);
    for (const [status, second] of [['ok', 130], ['error', 140], ['ok', 150], ['error', 160]] as const) {
      await camera(status, second);
      await run(second + 1);
    }
    expect(await all()).toHaveLength(1);
    await camera('ok', 200);
    await run(310);
    expect((await all())[0]!.state).toBe('detected');
    await run(321);
    expect(await all()).toEqual([expect.objectContaining({ state: 'resolved', autoResolved: true, resolvedAt: '2026-12-01T08:05:21.000Z' })]);
  });

  it('reopen the same incident when the cause comes back soon, and open a new one when it comes back later', async () => {
    await camera('error', 0);
    await run(121);
    await camera('ok', 130);
    await run(251);
    const first = (await all())[0]!;
    expect(first.state).toBe('resolved');
    await camera('error', 600);
    await run(721);
    expect(await all()).toEqual([expect.objectContaining({ id: first.id, state: 'detected', reopened: 1, resolvedAt: null, autoResolved: false })]);
    await camera('ok', 730);
    await run(851);
    // More than 30 minutes after it resolved: a new incident.
    await camera('error', 851 + 31 * 60);
    await run(851 + 31 * 60 + 121);
    expect((await all()).map((i) => i.id)).toEqual([expect.not.stringMatching(first.id), first.id]);
    expect((await incidents.detail('t1', first.id))!.timeline.map((e) => e.kind)).toEqual(['opened', 'autoResolved', 'reopened', 'autoResolved']);
  });

  it('go on after a restart from what the history holds: a room that recovers resolves, a room failing since before opens on time', async () => {
    const directory = new Directory(store, () => new Date(clock.t));
    const delta = await directory.createRoom('t1', { name: 'Delta', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
    await camera('error', 0);
    at(100);
    await monitor.observe(delta.id, { online: true, signals: { ...ok, audio: 'error' } });
    await run(121);
    expect((await all()).map((i) => [i.roomName, i.cause])).toEqual([['Fjord', 'signal.camera']]);

    monitor = new RoomMonitor(store, directory, () => new Date(clock.t), failTest);
    incidents = new Incidents(store, directory, monitor, audit, () => new Date(clock.t));
    await camera('ok', 130);
    // The same error again: no new event, its start is the history's.
    at(140);
    await monitor.observe(delta.id, { signals: { ...ok, audio: 'error' } });
    await run(251);
    expect(await all()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ roomName: 'Fjord', state: 'resolved', autoResolved: true, resolvedAt: '2026-12-01T08:04:11.000Z' }),
        expect.objectContaining({ roomName: 'Delta', cause: 'signal.audio', state: 'detected', openedAt: '2026-12-01T08:04:11.000Z' }),
      ]),
    );
  });

  it('open a critical incident for a room offline five minutes, and follow the tenant’s tuned rules', async () => {
    at(0);
    await monitor.observe(room.id, { online: false });
    await run(299);
    expect(await all()).toEqual([]);
    await run(301);
    expect(await all()).toEqual([expect.objectContaining({ cause: 'offline', severity: 'critical' })]);

    const rules = await incidents.rules('t1');
    await incidents.setRules('t1', { ...rules, signalErrorMinutes: 10, signalSeverity: { ...rules.signalSeverity, audio: 'critical' } }, admin);
    at(400);
    await monitor.observe(room.id, { online: true, signals: { ...ok, audio: 'error' } });
    await run(400 + 9 * 60);
    expect((await all()).filter((i) => i.cause === 'signal.audio')).toEqual([]);
    await run(400 + 10 * 60);
    expect((await all()).find((i) => i.cause === 'signal.audio')).toMatchObject({ severity: 'critical' });
    expect((await audit.query('t1', { type: 'incidentRules.updated' })).records[0]).toMatchObject({ actorName: 'Adele Admin', data: { after: { signalErrorMinutes: 10 } } });
  });
});

describe('an incident’s life', () => {
  it('goes detected → active → investigating → resolved by hand, every step in its timeline and the audit', async () => {
    await camera('error', 0);
    await run(121);
    const { id } = (await all())[0]!;
    expect((await incidents.change(id, 'acknowledged', admin, null)).state).toBe('active');
    await expect(incidents.change(id, 'acknowledged', admin, null)).rejects.toThrow('already acknowledged');
    expect(await incidents.change(id, 'assigned', admin, { assignee: { id: 'u-tech', name: 'Tomas Technician' } })).toMatchObject({ state: 'investigating', assigneeName: 'Tomas Technician' });
    await incidents.change(id, 'note', admin, { text: 'Camera cable loose, on my way.' });
    expect(await incidents.change(id, 'resolved', admin, null)).toMatchObject({ state: 'resolved', autoResolved: false });
    await expect(incidents.change(id, 'assigned', admin, { assignee: admin })).rejects.toThrow('resolved');
    expect((await incidents.detail('t1', id))!.timeline.map((e) => [e.kind, e.by, e.text])).toEqual([
      ['opened', null, null],
      ['acknowledged', 'Adele Admin', null],
      ['assigned', 'Adele Admin', 'Tomas Technician'],
      ['note', 'Adele Admin', 'Camera cable loose, on my way.'],
      ['resolved', 'Adele Admin', null],
    ]);
    expect((await audit.query('t1', {})).records.map((r) => [r.type, r.data.change ?? null]).reverse()).toEqual([
      ['incident.opened', null],
      ['incident.changed', 'acknowledged'],
      ['incident.changed', 'assigned'],
      ['incident.changed', 'note'],
      ['incident.changed', 'resolved'],
    ]);
    expect(await incidents.detail('t2', id)).toBeNull();
  });

  it('stays resolved when a person resolves it while the cause lasts, until it fails anew', async () => {
    await camera('error', 0);
    await run(121);
    const { id } = (await all())[0]!;
    at(130);
    await incidents.change(id, 'resolved', admin, null);
    await run(400);
    expect(await all()).toEqual([expect.objectContaining({ id, state: 'resolved' })]);
    await camera('ok', 410);
    await camera('error', 420);
    await run(420 + 121);
    expect(await all()).toEqual([expect.objectContaining({ id, state: 'detected', reopened: 1 })]);
  });

  it('never holds two open incidents for one room and cause, even written past the rules', async () => {
    await camera('error', 0);
    await run(121);
    await expect(
      store.db.insertInto('incidents').values({ tenant_id: 't1', id: 'dup', room_id: room.id, room_name: 'Fjord', cause: 'signal.camera', severity: 'warning', state: 'detected', opened_at: 'x', updated_at: 'x' }).execute(),
    ).rejects.toThrow(/UNIQUE|unique/);
  });
});
