import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Generated } from 'kysely';
import pg from 'pg';
import { percentile, type BenchReport } from '../../../scripts/bench/report';
import { startPostgres } from '../../../scripts/services/postgres';

/**
 * Which store engine, and what a query builder costs: the server's hot
 * paths written three ways (better-sqlite3 prepared statements as today,
 * Kysely over the same SQLite, Kysely over PostgreSQL), on one schema built
 * by Kysely's schema builder for both engines. Then the audit chain from
 * three writers at once, each its own connection as a node would be, on
 * PostgreSQL with the tenant's head row locked in each append.
 */

const ROOMS = Number(process.env.BENCH_ROOMS ?? 10_000);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 5_000);
const BATCH = 8;
const AUDIT_PER_WRITER = Number(process.env.BENCH_AUDIT ?? 3_000);
const WRITERS = 3;
const AUDIT_GROUP = 25;

interface Tables {
  rooms: { tenant_id: string; id: string; name: string; signals: string | null; health: string; updated_at: string };
  room_events: { id: Generated<number>; tenant_id: string; room_id: string; at: string; subject: string; state: string };
  audit_heads: { tenant_id: string; seq: number; hash: string };
  audit: { tenant_id: string; seq: number; at: string; type: string; data: string; prev_hash: string; hash: string };
}

async function createSchema(db: Kysely<Tables>, engine: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema.createTable('rooms').addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('id', 'text', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).addColumn('signals', 'text').addColumn('health', 'text', (c) => c.notNull()).addColumn('updated_at', 'text', (c) => c.notNull()).execute();
  await db.schema.createIndex('rooms_by_tenant').on('rooms').columns(['tenant_id', 'name']).execute();
  await db.schema.createTable('room_events').addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())).addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('room_id', 'text', (c) => c.notNull()).addColumn('at', 'text', (c) => c.notNull()).addColumn('subject', 'text', (c) => c.notNull()).addColumn('state', 'text', (c) => c.notNull()).execute();
  await db.schema.createIndex('room_events_by_room').on('room_events').columns(['tenant_id', 'room_id', 'at']).execute();
  await db.schema.createTable('audit_heads').addColumn('tenant_id', 'text', (c) => c.primaryKey()).addColumn('seq', 'integer', (c) => c.notNull()).addColumn('hash', 'text', (c) => c.notNull()).execute();
  await db.schema.createTable('audit').addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('seq', 'integer', (c) => c.notNull()).addColumn('at', 'text', (c) => c.notNull()).addColumn('type', 'text', (c) => c.notNull()).addColumn('data', 'text', (c) => c.notNull()).addColumn('prev_hash', 'text', (c) => c.notNull()).addColumn('hash', 'text', (c) => c.notNull()).addPrimaryKeyConstraint('audit_pk', ['tenant_id', 'seq']).execute();
  const now = new Date().toISOString();
  for (let i = 0; i < ROOMS; i += 1000) {
    await db
      .insertInto('rooms')
      .values(Array.from({ length: Math.min(1000, ROOMS - i) }, (_, k) => ({ tenant_id: 'contoso', id: `room-${i + k}`, name: `Room ${i + k}`, signals: null, health: 'offline', updated_at: now })))
      .execute();
  }
  await db.insertInto('audit_heads').values({ tenant_id: 'contoso', seq: 0, hash: '0'.repeat(64) }).execute();
}

const signalsOf = (n: number) => JSON.stringify({ app: 'ok', audio: 'ok', camera: n % 2 ? 'warning' : 'ok', display: 'ok', network: 'ok', signIn: 'ok' });
const hashOf = (prev: string, record: string) => createHash('sha256').update(prev).update(record).digest('hex');

/** A batch of health reports as the room monitor commits them: read the room, write its state and two events. */
async function reportsKysely(db: Kysely<Tables>): Promise<number[]> {
  const perBatch: number[] = [];
  for (let n = 0; n < REPORTS; n += BATCH) {
    const t0 = performance.now();
    await db.transaction().execute(async (trx) => {
      for (let k = n; k < n + BATCH; k += 1) {
        const id = `room-${(k * 7919) % ROOMS}`;
        const room = await trx.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        const at = new Date().toISOString();
        await trx.updateTable('rooms').set({ signals: signalsOf(k), health: k % 2 ? 'nonUrgent' : 'healthy', updated_at: at }).where('id', '=', room.id).execute();
        await trx
          .insertInto('room_events')
          .values([
            { tenant_id: room.tenant_id, room_id: room.id, at, subject: 'camera', state: k % 2 ? 'warning' : 'ok' },
            { tenant_id: room.tenant_id, room_id: room.id, at, subject: 'health', state: k % 2 ? 'nonUrgent' : 'healthy' },
          ])
          .execute();
      }
    });
    perBatch.push(performance.now() - t0);
  }
  return perBatch;
}

function reportsRaw(db: Database.Database): number[] {
  const select = db.prepare<[string], { tenant_id: string; id: string }>('SELECT * FROM rooms WHERE id = ?');
  const update = db.prepare('UPDATE rooms SET signals = ?, health = ?, updated_at = ? WHERE id = ?');
  const insert = db.prepare('INSERT INTO room_events (tenant_id, room_id, at, subject, state) VALUES (?, ?, ?, ?, ?)');
  const perBatch: number[] = [];
  for (let n = 0; n < REPORTS; n += BATCH) {
    const t0 = performance.now();
    db.transaction(() => {
      for (let k = n; k < n + BATCH; k += 1) {
        const room = select.get(`room-${(k * 7919) % ROOMS}`)!;
        const at = new Date().toISOString();
        update.run(signalsOf(k), k % 2 ? 'nonUrgent' : 'healthy', at, room.id);
        insert.run(room.tenant_id, room.id, at, 'camera', k % 2 ? 'warning' : 'ok');
        insert.run(room.tenant_id, room.id, at, 'health', k % 2 ? 'nonUrgent' : 'healthy');
      }
    })();
    perBatch.push(performance.now() - t0);
  }
  return perBatch;
}

async function timed(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return percentile(samples, 50);
}

/**
 * One writer's appends, `group` records to a transaction (a node's group
 * commit: what its callers wrote in the last moment goes together): lock
 * the tenant's head, chain the records to it, move the head.
 */
async function appendAudit(db: Kysely<Tables>, writer: number, lock: boolean, group = 1): Promise<void> {
  for (let i = 0; i < AUDIT_PER_WRITER; i += group) {
    await db.transaction().execute(async (trx) => {
      const head = await trx
        .selectFrom('audit_heads')
        .selectAll()
        .where('tenant_id', '=', 'contoso')
        .$if(lock, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      let seq = Number(head.seq);
      let hash = head.hash;
      const rows: Tables['audit'][] = [];
      for (let k = i; k < Math.min(AUDIT_PER_WRITER, i + group); k += 1) {
        const record = JSON.stringify({ type: 'session.started', writer, k });
        seq += 1;
        rows.push({ tenant_id: 'contoso', seq, at: new Date().toISOString(), type: 'session.started', data: record, prev_hash: hash, hash: hashOf(hash, record) });
        hash = rows.at(-1)!.hash;
      }
      await trx.insertInto('audit').values(rows).execute();
      await trx.updateTable('audit_heads').set({ seq, hash }).where('tenant_id', '=', 'contoso').execute();
    });
  }
}

/** Walks the chain: every record links to the one before, no gap, no fork. */
async function verifyChain(db: Kysely<Tables>): Promise<{ records: number; intact: boolean }> {
  const rows = await db.selectFrom('audit').select(['seq', 'data', 'prev_hash', 'hash']).where('tenant_id', '=', 'contoso').orderBy('seq').execute();
  let prev = '0'.repeat(64);
  let intact = true;
  rows.forEach((row, index) => {
    if (Number(row.seq) !== index + 1 || row.prev_hash !== prev || row.hash !== hashOf(prev, row.data)) intact = false;
    prev = row.hash;
  });
  return { records: rows.length, intact };
}

export default async function storeBench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-bench-store-'));
  const sqliteFile = (name: string) => {
    const db = new Database(join(dir, name));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    return db;
  };
  const postgres = await startPostgres({ dir: mkdtempSync(join(tmpdir(), 'roomlink-bench-pg-')), durable: true });
  const pools: pg.Pool[] = [];
  const pgKysely = () => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 4 });
    // An idle connection that PostgreSQL closes (at shutdown) is the pool's to forget, not an uncaught error.
    pool.on('error', () => undefined);
    pools.push(pool);
    return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  };
  try {
    const raw = sqliteFile('raw.db');
    const rawKysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: raw }) });
    await createSchema(rawKysely, 'sqlite');
    const viaKysely = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqliteFile('kysely.db') }) });
    await createSchema(viaKysely, 'sqlite');
    // Kysely's SQLite driver prepares every query anew; one statement per distinct SQL text, kept, is what better-sqlite3 wants.
    const cachedFile = sqliteFile('cached.db');
    const statements = new Map<string, Database.Statement>();
    const cached = new Kysely<Tables>({
      dialect: new SqliteDialect({
        database: {
          close: () => cachedFile.close(),
          prepare: (sql: string) => {
            let statement = statements.get(sql);
            if (!statement) statements.set(sql, (statement = cachedFile.prepare(sql)));
            return statement;
          },
        },
      }),
    });
    await createSchema(cached, 'sqlite');
    const onPostgres = pgKysely();
    await createSchema(onPostgres, 'postgres');

    const cpu0 = process.cpuUsage();
    const rawBatches = reportsRaw(raw);
    const cpu1 = process.cpuUsage();
    const kyselyBatches = await reportsKysely(viaKysely);
    const cpu2 = process.cpuUsage();
    const cachedBatches = await reportsKysely(cached);
    const cpu2b = process.cpuUsage();
    const cpu2c = process.cpuUsage();
    const pgBatches = await reportsKysely(onPostgres);
    const cpu3 = process.cpuUsage();
    const cpuPerReport = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000 / REPORTS;

    const list = raw.prepare('SELECT * FROM rooms WHERE tenant_id = ? ORDER BY name');
    const listRaw = await timed(10, () => list.all('contoso'));
    const listKysely = await timed(10, () => viaKysely.selectFrom('rooms').selectAll().where('tenant_id', '=', 'contoso').orderBy('name').execute());
    const listPg = await timed(10, () => onPostgres.selectFrom('rooms').selectAll().where('tenant_id', '=', 'contoso').orderBy('name').execute());

    // Three writers, each with its own pool, as three nodes: the head row's lock orders their appends.
    const writers = Array.from({ length: WRITERS }, () => pgKysely());
    const a0 = performance.now();
    await Promise.all(writers.map((db, writer) => appendAudit(db, writer, true)));
    const auditSeconds = (performance.now() - a0) / 1000;
    const g0 = performance.now();
    await Promise.all(writers.map((db, writer) => appendAudit(db, writer, true, AUDIT_GROUP)));
    const groupedSeconds = (performance.now() - g0) / 1000;
    const chain = await verifyChain(onPostgres);
    const s0 = performance.now();
    await appendAudit(viaKysely, 0, false);
    const sqliteAuditSeconds = (performance.now() - s0) / 1000;

    const p50 = (xs: number[]) => percentile(xs, 50) / BATCH;
    return {
      name: 'store engines (better-sqlite3, Kysely on SQLite, Kysely on PostgreSQL)',
      context: { rooms: ROOMS, reports: REPORTS, reportsPerTransaction: BATCH, auditWriters: WRITERS, auditPerWriter: AUDIT_PER_WRITER, auditGroup: AUDIT_GROUP, postgres: 'Debian PostgreSQL, fsync on, loopback TCP' },
      rows: [
        { metric: 'health report write, better-sqlite3 prepared, p50', value: p50(rawBatches), unit: 'ms per report' },
        { metric: 'health report write, Kysely on SQLite, p50', value: p50(kyselyBatches), unit: 'ms per report' },
        { metric: 'health report write, Kysely on SQLite with its statements kept, p50', value: p50(cachedBatches), unit: 'ms per report' },
        { metric: 'health report write, Kysely on PostgreSQL, p50', value: p50(pgBatches), unit: 'ms per report' },
        { metric: 'health report write CPU here, better-sqlite3', value: cpuPerReport(cpu0, cpu1), unit: 'ms per report' },
        { metric: 'health report write CPU here, Kysely on SQLite', value: cpuPerReport(cpu1, cpu2), unit: 'ms per report' },
        { metric: 'health report write CPU here, Kysely on SQLite with its statements kept', value: cpuPerReport(cpu2, cpu2b), unit: 'ms per report' },
        { metric: 'health report write CPU here (client side), Kysely on PostgreSQL', value: cpuPerReport(cpu2c, cpu3), unit: 'ms per report' },
        { metric: `all ${ROOMS} rooms, better-sqlite3, p50`, value: listRaw, unit: 'ms' },
        { metric: `all ${ROOMS} rooms, Kysely on SQLite, p50`, value: listKysely, unit: 'ms' },
        { metric: `all ${ROOMS} rooms, Kysely on PostgreSQL, p50`, value: listPg, unit: 'ms' },
        { metric: `audit appends, ${WRITERS} writers on PostgreSQL, one record a transaction`, value: Math.round((WRITERS * AUDIT_PER_WRITER) / auditSeconds), unit: 'records/s', goal: '>= 5000' },
        { metric: `audit appends, ${WRITERS} writers on PostgreSQL, ${AUDIT_GROUP} records a transaction`, value: Math.round((WRITERS * AUDIT_PER_WRITER) / groupedSeconds), unit: 'records/s', goal: '>= 5000' },
        { metric: 'audit chain after both runs: records, intact', value: chain.records, unit: chain.intact ? 'records, intact' : 'records, BROKEN' },
        { metric: 'audit appends, one writer on SQLite (Kysely)', value: Math.round(AUDIT_PER_WRITER / sqliteAuditSeconds), unit: 'records/s' },
      ],
    };
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await postgres.close();
  }
}
