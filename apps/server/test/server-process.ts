import type { ChildProcess } from 'node:child_process';
import { startNodeProcess } from '../../../scripts/cluster/node-process';

/** The real server binary in a process of its own, as an operator runs it, for tests that kill it and benchmarks that weigh it. */
export async function startServerProcess(dataDir: string, issuer: string, caFile: string, extraArgs: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const { child, url } = await startNodeProcess(['--data-dir', dataDir, '--issuer', issuer, '--ca-file', caFile, ...extraArgs]);
  return { child, url };
}
