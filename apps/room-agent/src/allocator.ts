import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/**
 * glibc's malloc gives each block above 128 KB a mapping of its own and
 * unmaps it on free, and gives the heap's free top back likewise, so every
 * lossless WebP the pump encodes (libwebp takes megabytes of working memory
 * an image) faulted in fresh zeroed pages. Four 1920x256 bands of a 1080p
 * log screen took 56-65 ms on two threads; with blocks up to 16 MB kept in
 * the heap, 18-20 ms, for ~70 MB more resident memory (sharp, lossless WebP
 * effort 0, medians of 25 rounds, on this project's two-core machine). Both
 * thresholds are needed: a high mapping threshold alone still trims the heap
 * after every image.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=16777216:glibc.malloc.trim_threshold=16777216';

/**
 * The environment the agent should run with, or null when it already does:
 * glibc reads its tunables only at start-up. Malloc tunables an operator set
 * are theirs to keep; other libcs (and Windows) have nothing to tune here.
 */
export function tunedEnvironment(env: NodeJS.ProcessEnv, glibc: () => boolean): NodeJS.ProcessEnv | null {
  // Asked last: reading the libc takes a diagnostic report (~6 ms), which the relaunched process need not pay again.
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc.') || !glibc()) return null;
  return { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES };
}

export function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return typeof report?.header?.glibcVersionRuntime === 'string';
}

/**
 * Runs this command again in a child process with `env` and resolves with
 * its exit code. Signals for the agent are passed on (a service manager may
 * send them to both; the agent takes a repeated one calmly), and if this
 * process is killed outright the child sees its IPC channel close and stops
 * as on SIGTERM, so no agent is left behind.
 */
export function relaunch(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of signals) process.on(signal, pass);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const s of signals) process.off(s, pass);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
