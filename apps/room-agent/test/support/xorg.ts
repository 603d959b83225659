import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface XServer {
  display: string;
  monitors: { name: string; x: number; y: number; width: number; height: number }[];
  close(): Promise<void>;
}

const config = join(import.meta.dirname, 'xorg-dummy.conf');

function freeDisplay(): number {
  for (let n = 90 + (process.pid % 50); n < 400; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  throw new Error('no free X display number');
}

const x = (display: string, cmd: string, args: string[]) => execFileSync(cmd, args, { env: { ...process.env, DISPLAY: display }, stdio: 'pipe' }).toString();

/**
 * Xorg with the dummy driver and three 1920x1080 monitors side by side
 * (DUMMY0..2 at x = 0, 1920, 3840), as on a room PC with a console and two
 * front-of-room displays. Needs root and xserver-xorg-video-dummy.
 */
export async function startXorg(): Promise<XServer> {
  const n = freeDisplay();
  const display = `:${n}`;
  const logs = mkdtempSync(join(tmpdir(), 'roomlink-xorg-'));
  // -noreset: without it the server resets, losing monitors and atoms, when its last client leaves.
  const server: ChildProcess = spawn('Xorg', [display, '-config', config, '-logfile', join(logs, 'xorg.log'), '-noreset', '-nolisten', 'tcp', '-novtswitch', '-sharevts'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      x(display, 'xdpyinfo', []);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (i === 99) throw new Error(`Xorg on ${display} did not start; see ${logs}/xorg.log`);
  }
  x(display, 'xrandr', ['--addmode', 'DUMMY1', '1920x1080']);
  x(display, 'xrandr', ['--addmode', 'DUMMY2', '1920x1080']);
  x(display, 'xrandr', ['--output', 'DUMMY0', '--mode', '1920x1080', '--pos', '0x0', '--primary', '--output', 'DUMMY1', '--mode', '1920x1080', '--pos', '1920x0', '--output', 'DUMMY2', '--mode', '1920x1080', '--pos', '3840x0']);
  return {
    display,
    monitors: [0, 1, 2].map((i) => ({ name: `DUMMY${i}`, x: i * 1920, y: 0, width: 1920, height: 1080 })),
    close: () =>
      new Promise((resolve) => {
        server.once('exit', () => resolve());
        server.kill('SIGTERM');
      }),
  };
}
