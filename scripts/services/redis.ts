import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { freeTcpPort } from './ports';

export interface Redis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Redis from Debian on a free loopback port, keeping nothing on disk:
 * presence and signaling are live state that the nodes write again after a
 * restart. `port` starts it again where an earlier one stood (a test of
 * Redis going away and coming back).
 */
export async function startRedis(options: { dir: string; port?: number }): Promise<Redis> {
  mkdirSync(options.dir, { recursive: true });
  const port = options.port ?? (await freeTcpPort());
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', options.dir, '--loglevel', 'notice'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Redis did not start within 10 s')), 10_000);
    child.once('error', (error) => reject(new Error(`Redis: ${error.message} (is the redis-server package installed? scripts/system-deps.mjs installs it)`)));
    child.once('exit', (code) => reject(new Error(`Redis exited with ${code} before accepting connections`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  child.stderr!.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
