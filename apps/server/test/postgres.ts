import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { StoreConfig } from '../src/store/engine';

/** A new, empty database in the run's PostgreSQL, for one test store. */
export async function testPostgresUrl(): Promise<string> {
  const url = new URL(inject('postgresUrl'));
  const name = `test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(url.href);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${name}`;
  return url.href;
}

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
