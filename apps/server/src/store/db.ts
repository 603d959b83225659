import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations';

export type Db = Database.Database;

export class NewerDatabaseError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`The database is at schema version ${found}, but this server only knows versions up to ${supported}. Use a newer Roomlink server, or restore a backup made by this version.`);
  }
}

/** Brings the database to the newest schema: all pending migrations in one transaction, or none. */
export function migrate(db: Db, available: readonly string[] = migrations): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > available.length) throw new NewerDatabaseError(current, available.length);
  if (current === available.length) return current;
  db.transaction(() => {
    for (let version = current + 1; version <= available.length; version += 1) db.exec(available[version - 1]!);
    db.pragma(`user_version = ${available.length}`);
  })();
  return available.length;
}

/** Opens (creating if needed) the server's database: WAL, foreign keys, migrated. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}
