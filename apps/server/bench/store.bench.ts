import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Generated } from 'kysely';
import pg from 'pg';
import { percentile, type BenchReport } from '../../../scripts/bench/report';
import { createDatabase, startPostgres } from '../../../scripts/services/postgres';
import { CHECKPOINT_FILE, CheckpointFile } from '../src/audit/checkpoints';
import { AuditLog } from '../src/audit/log';
import type { AuditNodeData } from './audit-node';
import { openStore, type Store } from '../src/store/engine';

/**
 * Which store engine, and what a query builder costs: a health report's
 * writes three ways (better-sqlite3 prepared statements, Kysely over the
 * same SQLite, Kysely over PostgreSQL), on one schema built by Kysely's
 * schema builder for both engines. Then the server's own audit log
 * (`AuditLog`, group commit under the tenant's lock) from three nodes at
 * once on one PostgreSQL, each node its own store as in a cluster, and the
 * chain verified after.
 */

const ROOMS = Number(process.env.BENCH_ROOMS ?? 10_000);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 5_000);
const BATCH = 8;
const AUDIT_PER_WRITER = Number(process.env.BENCH_AUDIT ?? 3_000);
const WRITERS = 3;
/** Callers on each node appending at once, each waiting for its record before the next. */
const CALLERS = Number(process.env.BENCH_AUDIT_CALLERS ?? 50);

interface Tables {
  rooms: { tenant_id: string; id: string; name: string; signals: string | null; health: string; updated_at: string };
  room_events: { id: Generated<number>; tenant_id: string; room_id: string; at: string; subject: string; state: string };
}

async function createSchema(db: Kysely<Tables>, engine: 'sqlite' | 'postgres'): Promise<void> {
  await db.schema.createTable('rooms').addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('id', 'text', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).addColumn('signals', 'text').addColumn('health', 'text', (c) => c.notNull()).addColumn('updated_at', 'text', (c) => c.notNull()).execute();
  await db.schema.createIndex('rooms_by_tenant').on('rooms').columns(['tenant_id', 'name']).execute();
  await db.schema.createTable('room_events').addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())).addColumn('tenant_id', 'text', (c) => c.notNull()).addColumn('room_id', 'text', (c) => c.notNull()).addColumn('at', 'text', (c) => c.notNull()).addColumn('subject', 'text', (c) => c.notNull()).addColumn('state', 'text', (c) => c.notNull()).execute();
  await db.schema.createIndex('room_events_by_room').on('room_events').columns(['tenant_id', 'room_id', 'at']).execute();
  const now = new Date().toISOString();
  for (let i = 0; i < ROOMS; i += 1000) {
    await db
      .insertInto('rooms')
      .values(Array.from({ length: Math.min(1000, ROOMS - i) }, (_, k) => ({ tenant_id: 'contoso', id: `room-${i + k}`, name: `Room ${i + k}`, signals: null, health: 'offline', updated_at: now })))
      .execute();
  }
}

const signalsOf = (n: number) => JSON.stringify({ app: 'ok', audio: 'ok', camera: n % 2 ? 'warning' : 'ok', display: 'ok', network: 'ok', signIn: 'ok' });

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
 * Three nodes, each a process of its own with its own store, each with
 * `CALLERS` callers that append a record, wait for it, and append the next
 * (sessions starting and ending, refusals): what a busy node's audit log
 * sees, and what its group commit has to gather. Timed from the moment all
 * three are ready until every record is in the chain.
 */
async function auditFromNodes(url: string, checkpointFile: string, keys: { privateKey: KeyObject; publicKey: KeyObject }): Promise<number> {
  const perCaller = Math.ceil(AUDIT_PER_WRITER / CALLERS);
  const nodes = Array.from({ length: WRITERS }, (_, node) => {
    const data: AuditNodeData = {
      url,
      node,
      callers: CALLERS,
      perCaller,
      checkpointFile,
      privateKeyPem: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      publicKeyPem: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    };
    return fork(join(import.meta.dirname, 'audit-node.ts'), [JSON.stringify(data)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  });
  const said = (node: ChildProcess, word: string) =>
    new Promise<void>((resolve, reject) => {
      node.on('message', (message) => message === word && resolve());
      node.once('exit', (code) => reject(new Error(`an audit node exited with ${code} before it said ${word}`)));
    });
  await Promise.all(nodes.map((node) => said(node, 'ready')));
  const started = performance.now();
  const done = nodes.map((node) => said(node, 'done'));
  for (const node of nodes) node.send('go');
  await Promise.all(done);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(nodes.map((node) => new Promise((resolve) => (node.exitCode === null ? node.once('exit', resolve) : resolve(null)))));
  return (WRITERS * CALLERS * perCaller) / seconds;
}

/** The same callers on one node in this thread, on SQLite, until every record is in the chain. */
async function auditOnOneNode(log: AuditLog): Promise<number> {
  const started = performance.now();
  const perCaller = Math.ceil(AUDIT_PER_WRITER / CALLERS);
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let n = 0; n < perCaller; n += 1) await log.record({ tenantId: 'contoso', type: 'session.refused', actorId: `u-${caller}`, data: { caller, n, code: 'room_busy' } });
    }),
  );
  await log.close();
  return (CALLERS * perCaller) / ((performance.now() - started) / 1000);
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
  const stores: Store[] = [];
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

    // The server's audit log on three stores, as three nodes: the tenant's lock orders their group commits.
    const keys = generateKeyPairSync('ed25519');
    const checkpoints = new CheckpointFile(join(dir, 'checkpoints', CHECKPOINT_FILE));
    // The nodes' store is the server's schema, in a database of its own beside the comparison's tables.
    const nodesUrl = await createDatabase(postgres.url, 'nodes');
    // Migrated once, before the nodes start.
    const reader = await openStore({ engine: 'postgres', url: nodesUrl });
    stores.push(reader);
    const auditPerSecond = await auditFromNodes(nodesUrl, checkpoints.path, keys);
    const chain = await (await AuditLog.open(reader, keys, checkpoints, () => new Date())).verify('contoso');
    const single = await openStore({ engine: 'sqlite', file: join(dir, 'audit.db') });
    stores.push(single);
    const sqlitePerSecond = await auditOnOneNode(await AuditLog.open(single, keys, checkpoints, () => new Date()));

    const p50 = (xs: number[]) => percentile(xs, 50) / BATCH;
    return {
      name: 'store engines (better-sqlite3, Kysely on SQLite, Kysely on PostgreSQL)',
      context: { rooms: ROOMS, reports: REPORTS, reportsPerTransaction: BATCH, auditWriters: WRITERS, auditPerNode: AUDIT_PER_WRITER, auditCallersPerNode: CALLERS, postgres: 'Debian PostgreSQL, fsync on, loopback TCP' },
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
        { metric: `audit appends (AuditLog), ${WRITERS} nodes (processes) on one PostgreSQL at once`, value: Math.round(auditPerSecond), unit: 'records/s', goal: '>= 5000' },
        { metric: 'audit chain after it: records, intact', value: chain.checked, unit: chain.ok ? 'records, intact' : `records, BROKEN: ${chain.problem}` },
        { metric: 'audit appends (AuditLog), one node on SQLite', value: Math.round(sqlitePerSecond), unit: 'records/s' },
      ],
    };
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(pools.map((pool) => pool.end()));
    await postgres.close();
  }
}
