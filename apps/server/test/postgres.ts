import { randomBytes } from 'node:crypto';
import { createDatabase } from '../../../scripts/services/postgres';
import { inject } from 'vitest';
import type { StoreConfig } from '../src/store/engine';

/** A new, empty database in the run's PostgreSQL, for one test store. */
export const testPostgresUrl = (): Promise<string> => createDatabase(inject('postgresUrl'), `test_${randomBytes(6).toString('hex')}`);

/** On PostgreSQL, a server started again on the same data directory finds the same database, as on SQLite. */
const byDataDir = new Map<string, Promise<string>>();
export function postgresFor(dataDir: string): Promise<string> {
  if (!byDataDir.has(dataDir)) byDataDir.set(dataDir, testPostgresUrl());
  return byDataDir.get(dataDir)!;
}

/** Which store the server suite runs on: SQLite, or PostgreSQL with ROOMLINK_TEST_STORE=postgres (`npm test` runs both). */
export const testStore = (): 'sqlite' | 'postgres' => (process.env.ROOMLINK_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite');

/** The store a test server on `dataDir` keeps its data in: undefined for SQLite in the directory itself. */
export async function testStoreConfig(dataDir: string): Promise<StoreConfig | undefined> {
  return testStore() === 'postgres' ? { engine: 'postgres', url: await postgresFor(dataDir) } : undefined;
}
