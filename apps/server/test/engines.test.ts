import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { NewerDatabaseError } from '@roomlink/shared';
import { CHECKPOINT_FILE, CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog } from '../src/audit/log';
import { openStore, retryingDeadlocks, type Store, type StoreConfig } from '../src/store/engine';
import { migrations } from '../src/store/migrations';
import { testPostgresUrl } from './postgres';

/** The two engines under one store: the same schema from the same migrations, and the expressions they spell differently giving the same answers. */

const opened: Store[] = [];
const open = async (config: StoreConfig) => {
  const store = await openStore(config);
  opened.push(store);
  return store;
};
const sqliteConfig = (): StoreConfig => ({ engine: 'sqlite', file: join(mkdtempSync(join(tmpdir(), 'roomlink-engine-')), 'server.db') });
const postgresConfig = async (): Promise<StoreConfig> => ({ engine: 'postgres', url: await testPostgresUrl() });

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

/** Each table's columns, as the engine describes them. */
async function columns(store: Store): Promise<Record<string, string[]>> {
  const rows =
    store.engine === 'sqlite'
      ? (await sql<{ t: string; c: string }>`SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`.execute(store.db)).rows
      : (await sql<{ t: string; c: string }>`SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name != 'schema_version' ORDER BY table_name, ordinal_position`.execute(store.db)).rows;
  const tables: Record<string, string[]> = {};
  for (const { t, c } of rows) (tables[t] ??= []).push(c);
  return tables;
}

describe('one schema on both engines', () => {
  it('gives PostgreSQL the tables and columns SQLite has (and rowid where SQLite has its own)', async () => {
    const onSqlite = await columns(await open(sqliteConfig()));
    const onPostgres = await columns(await open(await postgresConfig()));
    expect(Object.keys(onPostgres).sort()).toEqual(Object.keys(onSqlite).sort());
    for (const [table, names] of Object.entries(onSqlite)) {
      const own = ['room_events', 'delivery_attempts', 'incident_entries'].includes(table) ? [...names, 'rowid'] : names;
      expect([table, onPostgres[table]]).toEqual([table, own]);
    }
  });

  it('finds a row by rowid through an index on PostgreSQL too, as SQLite does through the table’s own key', async () => {
    const store = await open(await postgresConfig());
    const indexed = await sql<{ table: string }>`SELECT t.relname AS table FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] WHERE a.attname = 'rowid' AND i.indnatts = 1 AND i.indisunique`.execute(store.db);
    expect(indexed.rows.map((r) => r.table).sort()).toEqual(['delivery_attempts', 'incident_entries', 'room_events']);
  });

  it('migrates a PostgreSQL database once when three nodes start on it at the same moment', async () => {
    const config = await postgresConfig();
    const stores = await Promise.all([open(config), open(config), open(config)]);
    const versions = await sql<{ version: number }>`SELECT version FROM schema_version`.execute(stores[0]!.db);
    expect(versions.rows).toEqual([{ version: migrations.length }]);
    expect(await stores[2]!.db.selectFrom('audit_guard').select('purging').execute()).toEqual([{ purging: 0 }]);
  });

  it('refuses a PostgreSQL database from a newer version with a clear message', async () => {
    const config = await postgresConfig();
    await (await open(config)).close();
    opened.pop();
    const client = new pg.Client((config as { url: string }).url);
    await client.connect();
    await client.query('UPDATE schema_version SET version = version + 1');
    await client.end();
    await expect(openStore(config)).rejects.toThrow(NewerDatabaseError);
    await expect(openStore(config)).rejects.toThrow(/server database is at schema version \d+.*Use a newer Roomlink/);
  });

  it.each(['sqlite', 'postgres'] as const)('keeps the audit append-only on %s: no update, no delete unless the purge lifts the guard in its transaction', async (engine) => {
    const store = await open(engine === 'sqlite' ? sqliteConfig() : await postgresConfig());
    const record = { tenant_id: 't1', seq: 1, at: '2026-01-01T00:00:00.000Z', type: 'x', actor_id: null, actor_name: null, room_id: null, room_name: null, session_id: null, data: '{}', prev_hash: '0', hash: '1' };
    await store.db.insertInto('audit').values(record).execute();
    await expect(store.db.updateTable('audit').set({ actor_name: 'Mallory' }).execute()).rejects.toThrow(/append-only/);
    await expect(store.db.deleteFrom('audit').execute()).rejects.toThrow(/append-only/);
    await store.db.transaction().execute(async (trx) => {
      await trx.updateTable('audit_guard').set({ purging: 1 }).execute();
      await trx.deleteFrom('audit').where('seq', '=', 1).execute();
      await trx.updateTable('audit_guard').set({ purging: 0 }).execute();
    });
    expect(await store.db.selectFrom('audit').selectAll().execute()).toEqual([]);
  });

  it.each(['sqlite', 'postgres'] as const)('answers the expressions the engines spell differently alike on %s', async (engine) => {
    const store = await open(engine === 'sqlite' ? sqliteConfig() : await postgresConfig());
    const { dialect } = store;
    await store.db.insertInto('tenants').values({ id: 't1' }).execute();
    await store.db.insertInto('rooms').values([
      { tenant_id: 't1', id: 'r1', name: 'One', platform: 'windows', license: 'pro', tags: '["east","lobby"]', updated_at: '' },
      { tenant_id: 't1', id: 'r2', name: 'Two', platform: 'windows', license: 'pro', tags: '[]', updated_at: '' },
      { tenant_id: 't1', id: 'r3', name: 'Three', platform: 'windows', license: 'pro', tags: '["lobby"]', updated_at: '' },
    ]).execute();
    const ids = async (where: ReturnType<typeof sql<boolean>>) => (await store.db.selectFrom('rooms').select('id').where(where).orderBy('id').execute()).map((r) => r.id);
    expect(await ids(dialect.inList(sql.ref('id'), ['r1', 'r3', 'nope']))).toEqual(['r1', 'r3']);
    expect(await ids(dialect.inList(sql.ref('id'), []))).toEqual([]);
    expect(await ids(dialect.jsonArrayHas(sql.ref('tags'), 'lobby'))).toEqual(['r1', 'r3']);
    expect(await ids(dialect.jsonArrayHas(sql.ref('tags'), 'east'))).toEqual(['r1']);
    const step = async (at: string) => (await store.db.selectNoFrom(dialect.stepOf(sql.val(at), '2026-01-02T00:00:00.000Z', 60).as('step')).executeTakeFirstOrThrow()).step;
    expect([await step('2026-01-02T00:00:00.000Z'), await step('2026-01-02T00:00:59.900Z'), await step('2026-01-02T00:01:30.500Z'), await step('2026-01-03T00:00:00.000Z')]).toEqual([0, 0, 1, 1440]);
    const { padded } = await store.db.selectNoFrom(dialect.paddedRowid(sql.lit(42)).as('padded')).executeTakeFirstOrThrow();
    expect(padded).toBe('000000000042');
  });
});

describe('two nodes writing the same rooms in opposite orders', () => {
  it('runs a deadlock’s victim again on PostgreSQL, and both writers get through', async () => {
    const store = await open(await postgresConfig());
    await store.db.insertInto('tenants').values({ id: 't1' }).execute();
    await store.db.insertInto('rooms').values(['r1', 'r2'].map((id) => ({ tenant_id: 't1', id, name: id, platform: 'windows', license: 'pro', tags: '[]', updated_at: '' }))).execute();
    let runs = 0;
    const failures: unknown[] = [];
    const latch = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    };
    const holding = [latch(), latch()];
    // Each takes its first room, waits until the other has taken its own, then wants the other's: a deadlock, every time.
    const write = (who: 0 | 1, first: string, second: string) =>
      retryingDeadlocks(store, async () => {
        runs += 1;
        try {
          return await store.db.transaction().execute(async (trx) => {
            await trx.updateTable('rooms').set({ name: `by ${who}` }).where('id', '=', first).execute();
            holding[who]!.resolve();
            await holding[1 - who]!.promise;
            await trx.updateTable('rooms').set({ name: `by ${who}` }).where('id', '=', second).execute();
          });
        } catch (error) {
          failures.push(error);
          throw error;
        }
      });
    await Promise.all([write(0, 'r1', 'r2'), write(1, 'r2', 'r1')]);
    expect(failures).toHaveLength(1);
    expect(store.dialect.retryable(failures[0])).toBe(true);
    expect(runs).toBe(3);
    const names = (await store.db.selectFrom('rooms').select('name').orderBy('id').execute()).map((r) => r.name);
    expect(names[0]).toBe(names[1]);
  });
});

describe('the audit chain with writers on several nodes', () => {
  it('stays one gapless chain per tenant when three nodes append at once, every record in it once', async () => {
    const config = await postgresConfig();
    const checkpoints = new CheckpointFile(join(mkdtempSync(join(tmpdir(), 'roomlink-engine-')), CHECKPOINT_FILE));
    const keys = generateKeyPairSync('ed25519');
    const nodes = await Promise.all([0, 1, 2].map(async () => AuditLog.open(await open(config), keys, checkpoints, () => new Date())));
    await Promise.all(nodes.flatMap((log, node) => Array.from({ length: 60 }, (_, n) => log.record({ tenantId: n % 2 ? 't1' : 't2', type: 'session.ended', data: { node, n } }))));
    for (const tenantId of ['t1', 't2']) {
      expect(await nodes[0]!.verify(tenantId)).toMatchObject({ ok: true, checked: 90 });
      const stored = (await nodes[1]!.query(tenantId, { limit: 500 })).records;
      expect(stored.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
      expect(new Set(stored.map((r) => `${String(r.data.node)}:${String(r.data.n)}`)).size).toBe(90);
    }
    // Each node seals what it chained, at its periodic round.
    for (const node of nodes) await node.checkpointAll();
    expect(await nodes[0]!.verify('t1')).toMatchObject({ ok: true, sealedThroughSeq: 90 });
  });

  it('loses no record that commits while a chainer is moving the records around it', async () => {
    const config = await postgresConfig();
    const checkpoints = new CheckpointFile(join(mkdtempSync(join(tmpdir(), 'roomlink-engine-')), CHECKPOINT_FILE));
    const log = await AuditLog.open(await open(config), generateKeyPairSync('ed25519'), checkpoints, () => new Date());
    const { url } = config as { url: string };
    const late = new pg.Client({ connectionString: url });
    const holder = new pg.Client({ connectionString: url });
    await Promise.all([late.connect(), holder.connect()]);
    try {
      const pend = (client: pg.Client, n: number) =>
        client.query(`INSERT INTO audit_pending (tenant_id, at, type, data) VALUES ('t1', $1, 'session.ended', $2)`, [new Date().toISOString(), JSON.stringify({ n })]);
      // Pending records 1 and 3 committed; 2, between them, still in its writer's transaction.
      await pend(holder, 1);
      await late.query('BEGIN');
      await pend(late, 2);
      await pend(holder, 3);
      // Another transaction's uncommitted seq 1 holds the chainer between reading what is pending and finishing its move.
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO audit (tenant_id, seq, at, type, data, prev_hash, hash) VALUES ('t1', 1, '', 'x', '{}', '', '')`);
      const chaining = log.chainPending('t1');
      await vi.waitFor(async () => {
        // Its insert of seq 1 waits for the holder's transaction to end.
        const waiting = await late.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'transactionid'`);
        expect(waiting.rowCount).toBe(1);
      });
      // Record 2 commits while the chainer waits, then the chainer goes on.
      await late.query('COMMIT');
      await holder.query('ROLLBACK');
      await chaining;
    } finally {
      await Promise.all([late.end(), holder.end()]);
    }
    expect(await log.verify('t1')).toMatchObject({ ok: true, checked: 3 });
    const stored = (await log.query('t1', { limit: 10 })).records.map((r) => r.data.n);
    expect(stored.sort()).toEqual([1, 2, 3]);
    await log.close();
  });

  it('loses no record a node committed and died before chaining: another node chains it', async () => {
    const config = await postgresConfig();
    const checkpoints = new CheckpointFile(join(mkdtempSync(join(tmpdir(), 'roomlink-engine-')), CHECKPOINT_FILE));
    const keys = generateKeyPairSync('ed25519');
    const survivor = await AuditLog.open(await open(config), keys, checkpoints, () => new Date());
    await survivor.record({ tenantId: 't1', type: 'session.started', data: { n: 0 } });
    // record() resolves at its commit; its chaining follows a moment later and must not be what the survivor is heard doing below.
    await survivor.chainPending('t1');
    // What a node leaves when it dies between its commit and its chaining: committed, pending, in no chain.
    const dead = await open(config);
    await dead.db.insertInto('audit_pending').values({ tenant_id: 't1', at: new Date().toISOString(), type: 'session.ended', actor_id: null, actor_name: null, room_id: null, room_name: null, session_id: null, data: '{"n":1}' }).execute();
    await dead.close();
    // The survivor's next look for leftovers, well within a second, chains it.
    const heard: unknown[] = [];
    survivor.subscribe((record) => heard.push(record.data.n));
    await vi.waitFor(() => expect(heard).toEqual([1]), { timeout: 2_000 });
    expect(await survivor.verify('t1')).toMatchObject({ ok: true, checked: 2 });
  });
});
