import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate, NewerDatabaseError } from '@roomlink/shared';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect, type Compilable, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import pg from 'pg';
import { migrations, migrationSql } from './migrations';
import type { Tables } from './schema';

export type Engine = 'sqlite' | 'postgres';

/** Where the server keeps its data: one SQLite file (the embedded default), or a PostgreSQL database that several nodes share. */
export type StoreConfig = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string; poolSize?: number };

/**
 * The server's database on either engine: one query builder over both, and
 * the few expressions the engines spell differently (`dialect`).
 */
export interface Store {
  readonly engine: Engine;
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

type Expression = RawBuilder<unknown>;

export interface Dialect {
  /** `value` is one of `list` (a list of any length, bound as one parameter). */
  inList(value: Expression, list: readonly string[]): RawBuilder<boolean>;
  /** The JSON array of strings in `json` holds `value`. */
  jsonArrayHas(json: Expression, value: string): RawBuilder<boolean>;
  /** Which step of `stepSeconds` after the ISO time `from` the ISO time `at` falls in (0 for the first). */
  stepOf(at: Expression, from: string, stepSeconds: number): RawBuilder<number>;
  /** A row number as fixed-width text, so that it sorts as text. */
  paddedRowid(rowid: Expression): RawBuilder<string>;
  /**
   * Waits for, then holds until the transaction ends, the lock named `key`
   * among every node on the database. SQLite needs none: one process owns
   * the file and its transactions run one at a time.
   */
  lock(trx: Kysely<Tables>, key: string): Promise<void>;
  /** A select whose rows this transaction takes for itself, passing over rows another node is taking (SQLite: one writer, nothing to pass over). */
  claiming<Q extends SelectQueryBuilder<Tables, keyof Tables, unknown>>(query: Q): Q;
  /** Whether a failed statement or transaction may simply be run again: PostgreSQL chose it as a deadlock's victim (SQLite: one writer, never). */
  retryable(error: unknown): boolean;
}

/**
 * Runs `work` (a statement or a whole transaction) and runs it again, up to
 * three times, when the database gave it up as a deadlock's victim: two
 * nodes writing the same rooms in another order (a node's agents moving to
 * another while it records them) is an ordinary event, not a failure.
 */
export async function retryingDeadlocks<T>(store: Store, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 3 || !store.dialect.retryable(error)) throw error;
    }
  }
}

const sqliteDialect: Dialect = {
  inList: (value, list) => sql<boolean>`${value} IN (SELECT value FROM json_each(${JSON.stringify(list)}))`,
  jsonArrayHas: (json, value) => sql<boolean>`EXISTS (SELECT 1 FROM json_each(${json}) WHERE value = ${value})`,
  stepOf: (at, from, stepSeconds) => sql<number>`CAST((julianday(${at}) - julianday(${from})) * 86400.0 / ${stepSeconds} AS INTEGER)`,
  paddedRowid: (rowid) => sql<string>`printf('%012d', ${rowid})`,
  lock: async () => undefined,
  claiming: (query) => query,
  retryable: () => false,
};

const postgresDialect: Dialect = {
  inList: (value, list) => sql<boolean>`${value} = ANY(${list}::text[])`,
  jsonArrayHas: (json, value) => sql<boolean>`(${json})::jsonb @> jsonb_build_array(${value}::text)`,
  stepOf: (at, from, stepSeconds) => sql<number>`floor(extract(epoch from (${at}::timestamptz - ${from}::timestamptz)) / ${stepSeconds})::bigint`,
  paddedRowid: (rowid) => sql<string>`lpad(${rowid}::text, 12, '0')`,
  lock: async (trx, key) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
  },
  claiming: (query) => query.forUpdate().skipLocked() as typeof query,
  // deadlock_detected, serialization_failure
  retryable: (error) => ['40P01', '40001'].includes((error as { code?: unknown } | null)?.code as string),
};

/** Kysely prepares each query anew; better-sqlite3 wants a statement kept per SQL text. Bounded: lists of varying length make new texts. */
function cachedStatements(db: Database.Database, limit = 500) {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(text, (statement = db.prepare(text)));
      }
      return statement;
    },
  };
}

/** Brings a SQLite server database to the newest schema, or to the end of `available` (see `migrate` in shared). */
export const migrateSqlite = (db: Database.Database, available: readonly string[] = migrations.map((steps) => migrationSql(steps, 'sqlite'))): number => migrate(db, available, 'server database');

/** Opens (creating if needed) a SQLite database file: private to its owner, WAL, foreign keys, migrated. */
export function openSqlite(file: string): Database.Database {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // SQLite gives the -wal and -shm files the database file's mode: 0600 before the first open keeps all three private, whatever the directory.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrateSqlite(db);
  return db;
}

/** A store over an open, migrated SQLite connection. */
export function sqliteStore(database: Database.Database): Store {
  return { engine: 'sqlite', db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: cachedStatements(database) }) }), dialect: sqliteDialect, close: async () => void database.close() };
}

// BIGINT (counts, and every INTEGER column on PostgreSQL) as a JS number, as SQLite gives it: no value here nears 2^53.
const pgTypes = { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser };

/** The advisory lock starting nodes take turns on to migrate (were a chain lock's hash ever equal, one would only wait for the other). */
const MIGRATION_LOCK = 7_240_615;

/**
 * Brings a PostgreSQL store to the newest schema, all pending migrations in
 * one transaction or none; nodes starting together take turns on an
 * advisory lock, so each migration runs once.
 */
async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)');
    const current = Number((await client.query<{ version: string }>('SELECT version FROM schema_version')).rows[0]?.version ?? 0);
    if (current > migrations.length) throw new NewerDatabaseError(current, migrations.length, 'server database');
    for (let version = current + 1; version <= migrations.length; version += 1) await client.query(migrationSql(migrations[version - 1]!, 'postgres'));
    await client.query('DELETE FROM schema_version');
    await client.query('INSERT INTO schema_version VALUES ($1)', [migrations.length]);
    await client.query('COMMIT');
    return migrations.length;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** Connections to a PostgreSQL store that read its numbers as SQLite gives them. */
export function postgresPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes });
  // A pooled connection that PostgreSQL closes while idle (a restart, a failover) is the pool's to replace, not an uncaught error.
  pool.on('error', () => undefined);
  return pool;
}

/** Opens the configured store, migrated. */
export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.engine === 'sqlite') return sqliteStore(openSqlite(config.file));
  const pool = postgresPool(config.url, config.poolSize);
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return { engine: 'postgres', db, dialect: postgresDialect, close: () => db.destroy() };
}

/** The write broke a unique constraint (SQLite's code, or PostgreSQL's SQLSTATE 23505): what a race for one row looks like. */
export const isUniqueViolation = (error: unknown): boolean => error instanceof Error && 'code' in error && (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === '23505');

/**
 * A query built and compiled once, run with new values: for the few
 * statements the server runs hundreds of times a second, where building and
 * compiling each time costs more than running it. `build` gets a placeholder
 * for each named value; the run puts the values where the placeholders went.
 */
export function reusable<R, K extends string>(db: Kysely<Tables>, build: (db: Kysely<Tables>, value: (name: K) => string) => Compilable<R>): (trx: Kysely<Tables>, values: Record<K, unknown>) => Promise<R[]> {
  const marker = '\u0000reusable:';
  const compiled = build(db, (name) => `${marker}${name}`).compile();
  const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(marker) ? (p.slice(marker.length) as K) : null));
  return async (trx, values) => (await trx.executeQuery<R>({ ...compiled, parameters: slots.map((name, i) => (name === null ? compiled.parameters[i] : values[name])) })).rows;
}
