import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RunningScript {
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  exited: Promise<number | null>;
}

/** One of the repository's scripts as a person runs it (`npm start`, `npm run cluster`), with no X display. */
export function runScript(script: string, args: string[]): RunningScript {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DISPLAY: '' } });
  child.stdin.end();
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
