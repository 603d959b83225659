import { spawn } from 'node:child_process';
import { writeLogBundle } from '../../core/log-bundle';
import type { Device } from '../../core/platform';

/** Restart runs a configured command (by default a system reboot); logs are bundled as JSON next to the agent's data. */
export class CommandDevice implements Device {
  constructor(
    private readonly restartCommand: string,
    private readonly logDir: string,
  ) {}

  restart(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.restartCommand, { shell: true, stdio: 'ignore', detached: true });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`"${this.restartCommand}" exited with ${code}`))));
    });
  }

  async collectLogs(): Promise<string> {
    return writeLogBundle(this.logDir, 'x11');
  }
}
