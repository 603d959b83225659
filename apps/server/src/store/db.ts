import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate as migrateSchema } from '@roomlink/shared';
import Database from 'better-sqlite3';
import { migrations } from './migrations';

export type Db = Database.Database;

export { NewerDatabaseError } from '@roomlink/shared';

/** Brings the server's database to the newest schema (see `migrate` in shared). */
export const migrate = (db: Db, available: readonly string[] = migrations): number => migrateSchema(db, available, 'server database');

/** Opens (creating if needed) the server's database: WAL, foreign keys, migrated. */
export function openDatabase(file: string): Db {
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
  migrate(db);
  return db;
}
