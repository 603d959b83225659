import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES } from '../src/allocator';
import { ControlPlane, ROOM } from './support/control-plane';

/** The roomlink-agent command as an operator runs it: exit codes, messages, and what it leaves on disk. */

const main = join(import.meta.dirname, '../src/main.ts');
function agent(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', main, ...args], { env: { ...process.env, DISPLAY: '', ...env }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

let plane: ControlPlane;
beforeAll(async () => {
  plane = new ControlPlane();
  await plane.listen();
});
afterAll(() => plane.kill());

describe('roomlink-agent enroll', () => {
  it('keeps the device key and the pinned server key in files only this account can read', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'roomlink-cli-')), 'agent');
    const result = await agent(['enroll', '--server', plane.url, '--code', 'CODE-cli-1', '--data-dir', dataDir]);
    expect(result.stdout).toContain(`Enrolled as room "Test room" (${ROOM})`);
    expect(result.code).toBe(0);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'identity.json')).mode & 0o777).toBe(0o600);
    const identity = JSON.parse(readFileSync(join(dataDir, 'identity.json'), 'utf8')) as Record<string, string>;
    expect(identity.grantPublicKey).toBe(plane.grantKeys.publicKey.export({ format: 'jwk' }).x);
    expect(identity.deviceKey).toContain('BEGIN PRIVATE KEY');
  });

  it('says so when the code is refused, and writes nothing', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'roomlink-cli-')), 'agent');
    const result = await agent(['enroll', '--server', plane.url, '--code', 'WRONG-123', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The server refused the enrollment (enrollment_code_invalid)');
    expect(() => statSync(join(dataDir, 'identity.json'))).toThrow();
  });

  it('says so when the server cannot be reached', async () => {
    const result = await agent(['enroll', '--server', 'http://127.0.0.1:9', '--code', 'CODE-cli-2', '--data-dir', mkdtempSync(join(tmpdir(), 'roomlink-cli-'))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot reach the Roomlink server at http://127.0.0.1:9');
  });
});

describe('roomlink-agent run', () => {
  it('refuses to run before enrollment', async () => {
    const result = await agent(['run', '--data-dir', mkdtempSync(join(tmpdir(), 'roomlink-cli-'))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('This device is not enrolled');
  });

  it('refuses a damaged data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-cli-'));
    writeFileSync(join(dataDir, 'identity.json'), '{"version":1,"serverUrl":');
    const result = await agent(['run', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is damaged. Enroll the device again');
  });

  it('connects on the synthetic platform when there is no display, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'roomlink-cli-')), 'agent');
    await agent(['enroll', '--server', plane.url, '--code', 'CODE-cli-3', '--data-dir', dataDir]);
    const child = execFile(process.execPath, ['--import', 'tsx', main, 'run', '--data-dir', dataDir], { env: { ...process.env, DISPLAY: '' } });
    const hello = await plane.waitFor('agent.health');
    expect(hello.displays.map((d) => d.label)).toEqual(['Console', 'Front of Room 1', 'Front of Room 2']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('runs with glibc told to keep large blocks, and leaves no agent behind when the command is killed outright', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'roomlink-cli-')), 'agent');
    await agent(['enroll', '--server', plane.url, '--code', 'CODE-cli-4', '--data-dir', dataDir]);
    const command = spawn(process.execPath, ['--import', 'tsx', main, 'run', '--data-dir', dataDir], { env: { ...process.env, DISPLAY: '', GLIBC_TUNABLES: '' }, stdio: 'ignore' });
    let running = 0;
    try {
      await plane.waitFor('agent.health');
      running = Number(readFileSync(`/proc/${command.pid}/task/${command.pid}/children`, 'utf8').trim().split(' ')[0]);
      // glibc rewrites the variable in place as it reads it (the process's initial environment then holds its first setting only).
      const tunables = readFileSync(`/proc/${running}/environ`, 'utf8').split('\0').find((v) => v.startsWith('GLIBC_TUNABLES='));
      expect(MALLOC_TUNABLES.startsWith(tunables!.slice('GLIBC_TUNABLES='.length))).toBe(true);
      expect(tunables).toContain('glibc.malloc.mmap_threshold=');
      command.kill('SIGKILL');
      const gone = async () => {
        for (let i = 0; i < 200; i++) {
          if (!existsSync(`/proc/${running}`) || readFileSync(`/proc/${running}/stat`, 'utf8').split(') ')[1]!.startsWith('Z')) return true;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return false;
      };
      expect(await gone()).toBe(true);
    } finally {
      command.kill('SIGKILL');
      if (running && existsSync(`/proc/${running}`)) process.kill(running, 'SIGKILL');
    }
  });

  it('exits even when whoever read its log stopped reading and then went away', async () => {
    // A megabyte of log lines into a pipe nobody reads fills it; then the process exits, and only then does the reader go.
    const script = `import { createLogger } from ${JSON.stringify(join(import.meta.dirname, '../src/core/log.ts'))};
      const log = createLogger('info');
      for (let i = 0; i < 5000; i++) log.info({ i, pad: 'x'.repeat(200) }, 'filler');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.pause();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.stderr!.destroy();
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000));
    const outcome = await Promise.race([exited, hung]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome).toBe(0);
  });

  it('explains a bad option', async () => {
    const result = await agent(['run', '--platform', 'amiga']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unknown platform "amiga"');
  });
});
