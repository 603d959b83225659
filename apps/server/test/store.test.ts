import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditCsv } from '../src/audit/log';
import { migrate, NewerDatabaseError, openDatabase } from '../src/store/db';
import { migrations } from '../src/store/migrations';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'roomlink-db-')), 'server.db');
const keys = generateKeyPairSync('ed25519');

function auditLog(clock: { now: Date }) {
  const db = openDatabase(dbFile());
  return { db, log: new AuditLog(db, keys.privateKey, keys.publicKey, () => clock.now) };
}

describe('migrations', () => {
  it('brings a new database to the newest version, in WAL mode', () => {
    const db = openDatabase(dbFile());
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('applies pending migrations in one transaction: a failing one leaves the version untouched', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, ['CREATE TABLE a (x INTEGER) STRICT;', 'CREATE TABLE b (x INTEGER) STRICT; SELECT no_such_function();'])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'a'").get()).toEqual({ n: 0 });
  });

  it('refuses a database from a newer version with a clear message', () => {
    const file = dbFile();
    const db = new Database(file);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => openDatabase(file)).toThrow(NewerDatabaseError);
    expect(() => openDatabase(file)).toThrow(/server database is at schema version 2.*Use a newer Roomlink/);
  });
});

describe('audit log', () => {
  const entry = (tenantId: string, n: number) => ({ tenantId, type: 'session.ended' as const, actorId: 'u1', actorName: 'Tomas', roomId: 'r1', roomName: 'Board', data: { n, input: { accepted: n, dropped: 0 } } });

  it('chains records per tenant and verifies them', () => {
    const { log } = auditLog({ now: new Date('2026-01-01T00:00:00Z') });
    for (let n = 0; n < 5; n += 1) log.append(entry('t1', n));
    log.append(entry('t2', 0));
    expect(log.verify('t1')).toEqual({ ok: true, checked: 5, firstBadSeq: null, problem: null });
    expect(log.verify('t2').checked).toBe(1);
    expect(log.query('t2', {}).records.map((r) => r.data.n)).toEqual([0]);
  });

  it('refuses updates and deletes through SQL', () => {
    const { db, log } = auditLog({ now: new Date() });
    log.append(entry('t1', 1));
    expect(() => db.prepare("UPDATE audit SET actor_name = 'Mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });

  it('detects a record edited, removed or re-chained on disk', () => {
    const tamper = (sql: string) => {
      const { db, log } = auditLog({ now: new Date() });
      for (let n = 0; n < 4; n += 1) log.append(entry('t1', n));
      db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      db.exec(sql);
      return log.verify('t1');
    };
    expect(tamper(`UPDATE audit SET data = '{"n":9}' WHERE seq = 2`)).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/changed/) });
    expect(tamper('DELETE FROM audit WHERE seq = 3')).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/missing/) });
    expect(tamper('DELETE FROM audit WHERE seq = 1')).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(tamper('DELETE FROM audit WHERE seq = 4')).toMatchObject({ ok: true, checked: 3 });
  });

  it('purges records past 180 days and stays verifiable through a signed checkpoint', () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const { db, log } = auditLog(clock);
    for (let n = 0; n < 3; n += 1) log.append(entry('t1', n));
    clock.now = new Date('2026-06-01T00:00:00Z');
    log.append(entry('t1', 3));
    clock.now = new Date('2026-07-15T00:00:00Z');
    expect(log.purge()).toEqual({ tenants: 1, records: 3 });
    const records = log.query('t1', {}).records;
    expect(records.map((r) => r.type)).toEqual(['audit.purged', 'session.ended']);
    expect(log.verify('t1')).toMatchObject({ ok: true, checked: 2 });

    // A checkpoint whose signature does not verify does not excuse the gap.
    db.exec('DROP TRIGGER audit_no_update;');
    db.prepare("UPDATE audit SET data = json_set(data, '$.signature', 'AAAA') WHERE type = 'audit.purged'").run();
    expect(log.verify('t1').ok).toBe(false);
  });

  it('exports CSV that a spreadsheet cannot execute', () => {
    const { log } = auditLog({ now: new Date('2026-01-01T00:00:00Z') });
    log.append({ tenantId: 't1', type: 'room.created', actorName: '=HYPERLINK("x")', roomName: 'Board, "A"' });
    const csv = auditCsv(log.query('t1', {}).records);
    expect(csv.split('\r\n')[0]).toBe('seq,at,type,actorId,actorName,roomId,roomName,sessionId,data,hash');
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain('"Board, ""A"""');
  });
});
