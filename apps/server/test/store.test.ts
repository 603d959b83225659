import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_FILE, CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog, auditCsv } from '../src/audit/log';
import { NewerDatabaseError } from '@roomlink/shared';
import { migrateSqlite, openSqlite, sqliteStore } from '../src/store/engine';
import { migrations, migrationSql } from '../src/store/migrations';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'roomlink-db-')), 'server.db');
const keys = generateKeyPairSync('ed25519');

/** An audit log on its own SQLite store; `db` is the same connection, raw, for the attacker's SQL. */
async function auditLog(clock: { now: Date }) {
  const file = dbFile();
  const db = openSqlite(file);
  const store = sqliteStore(db);
  const checkpoints = new CheckpointFile(join(file, '..', 'checkpoints', CHECKPOINT_FILE));
  return { db, store, checkpoints, log: await AuditLog.open(store, keys, checkpoints, () => clock.now) };
}

describe('migrations', () => {
  it('brings a new database to the newest version, in WAL mode', () => {
    const db = openSqlite(dbFile());
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('keeps the database, its WAL and shared memory 0600 even in a directory that was already 0755', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomlink-db-'));
    chmodSync(dir, 0o755);
    const previous = process.umask(0o022);
    try {
      const db = openSqlite(join(dir, 'server.db'));
      db.prepare('CREATE TABLE t (x INTEGER)').run();
      for (const name of ['server.db', 'server.db-wal', 'server.db-shm']) expect([name, statSync(join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
      db.close();
      chmodSync(join(dir, 'server.db'), 0o644);
      openSqlite(join(dir, 'server.db')).close();
      expect(statSync(join(dir, 'server.db')).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('applies pending migrations in one transaction: a failing one leaves the version untouched', () => {
    const db = new Database(':memory:');
    expect(() => migrateSqlite(db, ['CREATE TABLE a (x INTEGER) STRICT;', 'CREATE TABLE b (x INTEGER) STRICT; SELECT no_such_function();'])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'a'").get()).toEqual({ n: 0 });
  });

  it('gives each room one live session when it migrates a database where a crash left a room with two open', () => {
    const db = new Database(':memory:');
    const sqlite = migrations.map((steps) => migrationSql(steps, 'sqlite'));
    const live = sqlite.findIndex((sql) => sql.includes('sessions_one_live_per_room'));
    migrateSqlite(db, sqlite.slice(0, live));
    db.prepare("INSERT INTO tenants (id) VALUES ('t1')").run();
    const open = db.prepare("INSERT INTO sessions (id, tenant_id, room_id, room_name, user_id, user_name, level, console_device, state, started_at) VALUES (?, 't1', ?, 'R', 'u', 'U', 'view', '{}', ?, '2026-01-01T00:00:00.000Z')");
    open.run('ses-old', 'room-a', 'active');
    open.run('ses-new', 'room-a', 'offered');
    open.run('ses-done', 'room-a', 'ended');
    open.run('ses-b', 'room-b', 'active');
    migrateSqlite(db, sqlite.slice(0, live + 1));
    expect(db.prepare('SELECT id, live_room FROM sessions ORDER BY id').all()).toEqual([
      { id: 'ses-b', live_room: 'room-b' },
      { id: 'ses-done', live_room: null },
      { id: 'ses-new', live_room: 'room-a' },
      { id: 'ses-old', live_room: null },
    ]);
  });

  it('refuses a database from a newer version with a clear message', () => {
    const file = dbFile();
    const db = new Database(file);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => openSqlite(file)).toThrow(NewerDatabaseError);
    expect(() => openSqlite(file)).toThrow(new RegExp(`server database is at schema version ${migrations.length + 1}.*Use a newer Roomlink`));
  });
});

describe('audit log', () => {
  const entry = (tenantId: string, n: number) => ({ tenantId, type: 'session.ended' as const, actorId: 'u1', actorName: 'Tomas', roomId: 'r1', roomName: 'Board', data: { n, input: { accepted: n, dropped: 0 } } });

  it('chains records per tenant and verifies them', async () => {
    const { log } = await auditLog({ now: new Date('2026-01-01T00:00:00Z') });
    for (let n = 0; n < 5; n += 1) await log.record(entry('t1', n));
    await log.record(entry('t2', 0));
    expect(await log.verify('t1')).toEqual({ ok: true, checked: 5, firstBadSeq: null, problem: null, sealedThroughSeq: null });
    expect((await log.verify('t2')).checked).toBe(1);
    expect((await log.query('t2', {})).records.map((r) => r.data.n)).toEqual([0]);
  });

  it('announces committed records to subscribers, and never one whose transaction rolled back', async () => {
    const { store, log } = await auditLog({ now: new Date() });
    const heard: [number, string][] = [];
    log.subscribe((record, tenantId) => heard.push([record.data.n as number, tenantId]));
    await log.record(entry('t1', 1));
    await expect(
      store.db.transaction().execute(async (trx) => {
        await log.append(trx, entry('t1', 2));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await store.db.transaction().execute((trx) => log.append(trx, entry('t2', 3)));
    await vi.waitFor(() => expect(heard).toHaveLength(2));
    expect(heard).toEqual([
      [1, 't1'],
      [3, 't2'],
    ]);
  });

  it('filters by part of the actor’s name in any case, its wildcards taken literally, and yields every match page by page', async () => {
    const { log } = await auditLog({ now: new Date() });
    const by = (actorName: string, n: number) => log.record({ ...entry('t1', n), actorName });
    for (let n = 0; n < 1200; n += 1) await by(n % 2 ? 'Tomas Technician' : 'Adele Admin', n);
    await by('100% Sure', 1200);
    expect((await log.query('t1', { actor: 'ADELE', limit: 500 })).records).toHaveLength(500);
    expect((await log.query('t1', { actor: '%', limit: 500 })).records.map((r) => r.actorName)).toEqual(['100% Sure']);
    expect((await log.query('t1', { actor: '_', limit: 500 })).records).toEqual([]);
    const all: number[] = [];
    for await (const record of log.all('t1', { actor: 'tomas' })) all.push(record.data.n as number);
    expect(all).toHaveLength(600);
    expect(all[0]).toBe(1199);
  });

  it('refuses updates and deletes through SQL', async () => {
    const { db, log } = await auditLog({ now: new Date() });
    await log.record(entry('t1', 1));
    await log.chainPending('t1');
    expect(() => db.prepare("UPDATE audit SET actor_name = 'Mallory'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });

  it('detects a record edited, removed or re-chained on disk', async () => {
    const tamper = async (sql: string) => {
      const { db, log } = await auditLog({ now: new Date() });
      for (let n = 0; n < 4; n += 1) await log.record(entry('t1', n));
      await log.chainPending('t1');
      db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      db.exec(sql);
      return log.verify('t1');
    };
    expect(await tamper(`UPDATE audit SET data = '{"n":9}' WHERE seq = 2`)).toMatchObject({ ok: false, firstBadSeq: 2, problem: expect.stringMatching(/changed/) });
    expect(await tamper('DELETE FROM audit WHERE seq = 3')).toMatchObject({ ok: false, firstBadSeq: 3, problem: expect.stringMatching(/missing/) });
    expect(await tamper('DELETE FROM audit WHERE seq = 1')).toMatchObject({ ok: false, firstBadSeq: 2 });
    // The window a checkpoint closes: the newest records, not yet sealed, can go unseen.
    expect(await tamper('DELETE FROM audit WHERE seq = 4')).toMatchObject({ ok: true, checked: 3, sealedThroughSeq: null });
  });

  describe('once a checkpoint has sealed the chain head', () => {
    /** Four records, sealed, then the attacker's SQL with the triggers gone and write access to the database file only. */
    const sealedThenTampered = async (attack: (db: Awaited<ReturnType<typeof auditLog>>['db']) => Promise<void> | void) => {
      const { db, log, checkpoints } = await auditLog({ now: new Date() });
      for (let n = 0; n < 4; n += 1) await log.record(entry('t1', n));
      expect(await log.checkpoint('t1')).toMatchObject({ seq: 4 });
      expect(await log.verify('t1')).toMatchObject({ ok: true, checked: 4, sealedThroughSeq: 4 });
      db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
      await attack(db);
      return { verification: await log.verify('t1'), checkpoints };
    };

    it('finds the newest records cut, even with the checkpoints in the database deleted too', async () => {
      const { verification } = await sealedThenTampered((db) => void db.exec('DELETE FROM audit WHERE seq >= 3; DELETE FROM audit_checkpoints;'));
      expect(verification).toMatchObject({ ok: false, firstBadSeq: 4, problem: expect.stringMatching(/cut short/) });
    });

    it('finds a tenant’s records all deleted', async () => {
      const { verification } = await sealedThenTampered((db) => void db.exec("DELETE FROM audit WHERE tenant_id = 't1'"));
      expect(verification).toMatchObject({ ok: false, checked: 0, problem: expect.stringMatching(/cut short/) });
    });

    it('finds one record removed and the chain recomputed after it', async () => {
      const { verification } = await sealedThenTampered(async (db) => {
        // The hash is SHA-256 of public data: anyone can rebuild a chain without record 2, and add one to keep the count.
        const forger = await auditLog({ now: new Date() });
        for (const n of [0, 2, 3, 99]) await forger.log.record(entry('t1', n));
        await forger.log.chainPending('t1');
        const forged = forger.db.prepare('SELECT * FROM audit').all() as Record<string, unknown>[];
        db.exec("DELETE FROM audit WHERE tenant_id = 't1'");
        const insert = db.prepare('INSERT INTO audit VALUES (@tenant_id, @seq, @at, @type, @actor_id, @actor_name, @room_id, @room_name, @session_id, @data, @prev_hash, @hash)');
        for (const row of forged) insert.run(row);
      });
      expect(verification).toMatchObject({ ok: false, firstBadSeq: 4, problem: expect.stringMatching(/rewritten/) });
    });

    it('finds the checkpoint file edited or damaged', async () => {
      const { db, log, checkpoints } = await auditLog({ now: new Date() });
      for (let n = 0; n < 3; n += 1) await log.record(entry('t1', n));
      await log.checkpoint('t1');
      db.exec('DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3; DELETE FROM audit_checkpoints;');
      // Lowering the sealed seq to hide the cut breaks the signature.
      writeFileSync(checkpoints.path, readFileSync(checkpoints.path, 'utf8').replace('"seq":3', '"seq":2'));
      expect(await log.verify('t1')).toMatchObject({ ok: false, problem: expect.stringMatching(/not signed/) });
      appendFileSync(checkpoints.path, 'not a checkpoint\n');
      expect(await log.verify('t1')).toMatchObject({ ok: false, problem: expect.stringMatching(/lines that are not checkpoints \(2\)/) });
    });

    it('is checked the same way offline, by npm run audit -- verify', async () => {
      const { db, log, checkpoints } = await auditLog({ now: new Date() });
      for (let n = 0; n < 3; n += 1) await log.record(entry('t1', n));
      await log.record(entry('t2', 0));
      await log.checkpointAll();
      const keyFile = join(checkpoints.path, '..', 'key.pem');
      writeFileSync(keyFile, keys.publicKey.export({ format: 'pem', type: 'spki' }));
      const dbPath = db.name;
      const verify = () => spawnSync('npx', ['tsx', 'apps/server/src/audit/cli.ts', 'verify', '--db', dbPath, '--checkpoints', checkpoints.path, '--key', keyFile], { encoding: 'utf8' });
      const good = verify();
      expect(good.stdout).toBe('ok   t1: 3 records, sealed through 3\nok   t2: 1 records, sealed through 1\n');
      expect(good.status).toBe(0);
      db.exec('DROP TRIGGER audit_no_delete;');
      db.exec("DELETE FROM audit WHERE tenant_id = 't1' AND seq = 3");
      const bad = verify();
      expect(bad.stdout).toMatch(/^FAIL t1: record 3: .*cut short/m);
      expect(bad.status).toBe(1);
    }, 30_000);

    it('seals every tenant with new records, and nobody else, at the periodic round', async () => {
      const { log } = await auditLog({ now: new Date() });
      await log.record(entry('t1', 1));
      await log.record(entry('t2', 1));
      expect(await log.checkpointAll()).toBe(2);
      expect(await log.checkpointAll()).toBe(0);
      await log.record(entry('t2', 2));
      expect(await log.checkpointAll()).toBe(1);
      expect(await log.verify('t2')).toMatchObject({ ok: true, sealedThroughSeq: 2 });
    });
  });

  it('purges records past 180 days and stays verifiable through a signed checkpoint', async () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const { db, log } = await auditLog(clock);
    for (let n = 0; n < 3; n += 1) await log.record(entry('t1', n));
    clock.now = new Date('2026-06-01T00:00:00Z');
    await log.record(entry('t1', 3));
    clock.now = new Date('2026-07-15T00:00:00Z');
    expect(await log.purge()).toEqual({ tenants: 1, records: 3 });
    const records = (await log.query('t1', {})).records;
    expect(records.map((r) => r.type)).toEqual(['audit.purged', 'session.ended']);
    expect(await log.verify('t1')).toMatchObject({ ok: true, checked: 2, sealedThroughSeq: 5 });

    // A checkpoint whose signature does not verify does not excuse the gap.
    db.exec('DROP TRIGGER audit_no_update;');
    db.prepare("UPDATE audit SET data = json_set(data, '$.signature', 'AAAA') WHERE type = 'audit.purged'").run();
    expect((await log.verify('t1')).ok).toBe(false);
  });

  it('keeps numbering after a purge that removed every record, and seals the purge', async () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const { log } = await auditLog(clock);
    for (let n = 0; n < 3; n += 1) await log.record(entry('t1', n));
    await log.checkpoint('t1');
    clock.now = new Date('2026-08-01T00:00:00Z');
    expect(await log.purge()).toEqual({ tenants: 1, records: 3 });
    expect((await log.query('t1', {})).records.map((r) => [r.seq, r.type])).toEqual([[4, 'audit.purged']]);
    await log.record(entry('t1', 9));
    expect((await log.query('t1', { limit: 1 })).records[0]).toMatchObject({ seq: 5, data: { n: 9 } });
    expect(await log.verify('t1')).toMatchObject({ ok: true, checked: 2, sealedThroughSeq: 4 });
  });

  it('exports CSV that a spreadsheet cannot execute', async () => {
    const { log } = await auditLog({ now: new Date('2026-01-01T00:00:00Z') });
    await log.record({ tenantId: 't1', type: 'room.created', actorName: '=HYPERLINK("x")', roomName: 'Board, "A"' });
    const csv = auditCsv((await log.query('t1', {})).records);
    expect(csv.split('\r\n')[0]).toBe('seq,at,type,actorId,actorName,roomId,roomName,sessionId,data,hash');
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain('"Board, ""A"""');
  });
});
