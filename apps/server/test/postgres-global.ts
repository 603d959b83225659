import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../../scripts/services/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** One PostgreSQL for the whole run; each test store is a database of its own in it (`testPostgresUrl`). */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await startPostgres({ dir: mkdtempSync(join(tmpdir(), 'roomlink-test-pg-')) });
  project.provide('postgresUrl', postgres.url);
  return () => postgres.close();
}
