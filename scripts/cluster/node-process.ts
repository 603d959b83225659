import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(import.meta.dirname, '..', '..');

export interface NodeProcess {
  child: ChildProcess;
  url: string;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<void>;
}

/**
 * The real server binary (`apps/server/src/main.ts`) in a process of its
 * own, as an operator runs it, on a free port; resolves with its URL once
 * it listens. `args` are its command-line options.
 */
export async function startNodeProcess(args: string[], options: { nodeOptions?: string[]; stderr?: 'inherit' | 'ignore' } = {}): Promise<NodeProcess> {
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), '--import', 'tsx', join(root, 'apps/server/src/main.ts'), '--port', '0', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { url?: string };
        if (entry.url) resolve(entry.url);
      } catch {
        // Not a log line: nothing to learn from it.
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url, exited };
}
