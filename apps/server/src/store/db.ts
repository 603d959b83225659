import { migrate as migrateSchema } from '@roomlink/shared';
import type Database from 'better-sqlite3';
import { openSqlite } from './engine';
import { migrations, migrationSql } from './migrations';

export type Db = Database.Database;

export { NewerDatabaseError } from '@roomlink/shared';

/** Brings a SQLite server database to the newest schema (see `migrate` in shared). */
export const migrate = (db: Db, available: readonly string[] = migrations.map((steps) => migrationSql(steps, 'sqlite'))): number => migrateSchema(db, available, 'server database');

/** Opens (creating if needed) the server's SQLite database: WAL, foreign keys, migrated. */
export const openDatabase = (file: string): Db => openSqlite(file);
