import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startIdp, type RunningIdp } from '../../../scripts/dev-idp/idp';
import { postgresFor, testStore } from './postgres';
import { startServerProcess } from './server-process';

/**
 * For tests that kill a server with -9: a sign-in provider for the suite, a
 * scratch directory, and server processes started in it that are all killed
 * when the suite ends, whatever state a test left them in.
 */
export function killableServers(prefix: string): { dir: string; idp(): RunningIdp; start(dataDir: string): Promise<{ child: ChildProcess; url: string }> } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];
  let idp: RunningIdp | null = null;
  beforeAll(async () => {
    idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await idp?.close();
  });
  return {
    dir,
    idp: () => idp!,
    start: async (dataDir) => {
      const started = await startServerProcess(dataDir, idp!.issuer, idp!.caFile, testStore() === 'postgres' ? ['--database-url', await postgresFor(dataDir)] : []);
      children.push(started.child);
      return started;
    },
  };
}
