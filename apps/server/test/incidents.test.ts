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
import { openDatabase, type Db } from '../src/store/db';
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
let db: Db;
let monitor: RoomMonitor;
let incidents: Incidents;
let audit: AuditLog;
let room: RoomRecord;

/** Moves the clock to `seconds` after the start and runs the rules, as the server's timer does. */
const at = (seconds: number) => {
  clock.t = Date.parse('2026-12-01T08:00:00.000Z') + seconds * 1000;
};
const run = (seconds: number) => {
  at(seconds);
  incidents.evaluate();
};
const camera = (status: 'ok' | 'error', seconds: number) => {
  at(seconds);
  monitor.observe(room.id, { signals: { ...ok, camera: status } });
};
const all = () => incidents.list('t1', {}, null);

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-incidents-'));
  clock = { t: 0 };
  at(0);
  const now = () => new Date(clock.t);
  db = openDatabase(join(dir, 'server.db'));
  const directory = new Directory(db, now);
  directory.ensureTenant('t1');
  room = directory.createRoom('t1', { name: 'Fjord', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
  monitor = new RoomMonitor(db, directory, now, failTest);
  audit = new AuditLog(db, keys, new CheckpointFile(join(dir, CHECKPOINT_FILE)), now);
  incidents = new Incidents(db, directory, monitor, audit, now);
  monitor.observe(room.id, { online: true, signals: ok });
});

describe('incident rules', () => {
  it('open one incident once a signal has been in error for two minutes, with the signal’s severity', () => {
    camera('error', 10);
    run(60);
    expect(all()).toEqual([]);
    run(131);
    expect(all()).toEqual([expect.objectContaining({ roomName: 'Fjord', cause: 'signal.camera', severity: 'warning', state: 'detected', openedAt: '2026-12-01T08:02:11.000Z' })]);
    run(140);
    expect(all()).toHaveLength(1);
  });

  it('never open a second incident for a flapping signal, and resolve by themselves once it has been fine for two minutes', () => {
    camera('error', 0);
    run(125);
    for (const [status, second] of [['ok', 130], ['error', 140], ['ok', 150], ['error', 160]] as const) {
      camera(status, second);
      run(second + 1);
    }
    expect(all()).toHaveLength(1);
    camera('ok', 200);
    run(310);
    expect(all()[0]!.state).toBe('detected');
    run(321);
    expect(all()).toEqual([expect.objectContaining({ state: 'resolved', autoResolved: true, resolvedAt: '2026-12-01T08:05:21.000Z' })]);
  });

  it('reopen the same incident when the cause comes back soon, and open a new one when it comes back later', () => {
    camera('error', 0);
    run(121);
    camera('ok', 130);
    run(251);
    const first = all()[0]!;
    expect(first.state).toBe('resolved');
    camera('error', 600);
    run(721);
    expect(all()).toEqual([expect.objectContaining({ id: first.id, state: 'detected', reopened: 1, resolvedAt: null, autoResolved: false })]);
    camera('ok', 730);
    run(851);
    // More than 30 minutes after it resolved: a new incident.
    camera('error', 851 + 31 * 60);
    run(851 + 31 * 60 + 121);
    expect(all().map((i) => i.id)).toEqual([expect.not.stringMatching(first.id), first.id]);
    expect(incidents.detail('t1', first.id)!.timeline.map((e) => e.kind)).toEqual(['opened', 'autoResolved', 'reopened', 'autoResolved']);
  });

  it('open a critical incident for a room offline five minutes, and follow the tenant’s tuned rules', () => {
    at(0);
    monitor.observe(room.id, { online: false });
    run(299);
    expect(all()).toEqual([]);
    run(301);
    expect(all()).toEqual([expect.objectContaining({ cause: 'offline', severity: 'critical' })]);

    incidents.setRules('t1', { ...incidents.rules('t1'), signalErrorMinutes: 10, signalSeverity: { ...incidents.rules('t1').signalSeverity, audio: 'critical' } }, admin);
    at(400);
    monitor.observe(room.id, { online: true, signals: { ...ok, audio: 'error' } });
    run(400 + 9 * 60);
    expect(all().filter((i) => i.cause === 'signal.audio')).toEqual([]);
    run(400 + 10 * 60);
    expect(all().find((i) => i.cause === 'signal.audio')).toMatchObject({ severity: 'critical' });
    expect(audit.query('t1', { type: 'incidentRules.updated' }).records[0]).toMatchObject({ actorName: 'Adele Admin', data: { after: { signalErrorMinutes: 10 } } });
  });
});

describe('an incident’s life', () => {
  it('goes detected → active → investigating → resolved by hand, every step in its timeline and the audit', () => {
    camera('error', 0);
    run(121);
    const { id } = all()[0]!;
    expect(incidents.change(id, 'acknowledged', admin, null).state).toBe('active');
    expect(() => incidents.change(id, 'acknowledged', admin, null)).toThrow('already acknowledged');
    expect(incidents.change(id, 'assigned', admin, { assignee: { id: 'u-tech', name: 'Tomas Technician' } })).toMatchObject({ state: 'investigating', assigneeName: 'Tomas Technician' });
    incidents.change(id, 'note', admin, { text: 'Camera cable loose, on my way.' });
    expect(incidents.change(id, 'resolved', admin, null)).toMatchObject({ state: 'resolved', autoResolved: false });
    expect(() => incidents.change(id, 'assigned', admin, { assignee: admin })).toThrow('resolved');
    expect(incidents.detail('t1', id)!.timeline.map((e) => [e.kind, e.by, e.text])).toEqual([
      ['opened', null, null],
      ['acknowledged', 'Adele Admin', null],
      ['assigned', 'Adele Admin', 'Tomas Technician'],
      ['note', 'Adele Admin', 'Camera cable loose, on my way.'],
      ['resolved', 'Adele Admin', null],
    ]);
    expect(audit.query('t1', {}).records.map((r) => [r.type, r.data.change ?? null]).reverse()).toEqual([
      ['incident.opened', null],
      ['incident.changed', 'acknowledged'],
      ['incident.changed', 'assigned'],
      ['incident.changed', 'note'],
      ['incident.changed', 'resolved'],
    ]);
    expect(incidents.detail('t2', id)).toBeNull();
  });

  it('stays resolved when a person resolves it while the cause lasts, until it fails anew', () => {
    camera('error', 0);
    run(121);
    const { id } = all()[0]!;
    at(130);
    incidents.change(id, 'resolved', admin, null);
    run(400);
    expect(all()).toEqual([expect.objectContaining({ id, state: 'resolved' })]);
    camera('ok', 410);
    camera('error', 420);
    run(420 + 121);
    expect(all()).toEqual([expect.objectContaining({ id, state: 'detected', reopened: 1 })]);
  });

  it('never holds two open incidents for one room and cause, even written past the rules', () => {
    camera('error', 0);
    run(121);
    expect(() =>
      db
        .prepare("INSERT INTO incidents (tenant_id, id, room_id, room_name, cause, severity, state, opened_at, updated_at) VALUES ('t1', 'dup', ?, 'Fjord', 'signal.camera', 'warning', 'detected', 'x', 'x')")
        .run(room.id),
    ).toThrow(/UNIQUE/);
  });
});
