import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes what a technician needs to diagnose the agent into one file and returns its path. */
export function writeLogBundle(logDir: string, platform: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const collectedAt = new Date().toISOString();
  const file = join(logDir, `logs-${collectedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ platform, collectedAt, node: process.version, uptimeSeconds: process.uptime(), ...extra }, null, 2), { mode: 0o600 });
  return file;
}
