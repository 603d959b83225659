import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Platform as PlatformName } from '@roomlink/shared';
import type { RoomAgent } from '../../src/core/agent';
import { enroll } from '../../src/core/identity';
import { createLogger } from '../../src/core/log';
import { startAgent } from '../../src/run';
import type { ControlPlane } from './control-plane';

export interface TestAgent {
  agent: RoomAgent;
  dataDir: string;
  /** Writes the room app's state file the way a careful writer does (temp file, then rename). */
  setRoomState(state: { inCall?: boolean; signals?: Record<string, string> }): void;
  stop(): Promise<void>;
  /** Stops this agent and starts a new one on the same data directory, as after a reboot. */
  restart(changes?: { graceMs?: number }): Promise<void>;
}

export async function enrolledAgent(plane: ControlPlane, options: { platform: PlatformName; display?: string; graceMs?: number; restartCommand?: string }): Promise<TestAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-agent-'));
  await enroll({ serverUrl: plane.url, code: `CODE-${randomUUID()}`, dataDir, platform: options.platform, agentVersion: 'test' });
  const roomStateFile = join(dataDir, 'room-state.json');
  const start = async (graceMs: number) => {
    const agent = await startAgent({
      dataDir,
      platform: options.platform,
      display: options.display,
      displayMapping: {},
      roomStateFile,
      restartCommand: options.restartCommand ?? 'true',
      graceMs,
      loopbackOnly: true,
      log: createLogger(process.env.ROOMLINK_TEST_LOG ?? 'silent'),
    });
    await plane.waitForAgent();
    return agent;
  };
  const handle: TestAgent = {
    agent: await start(options.graceMs ?? 1000),
    dataDir,
    setRoomState: (state) => {
      writeFileSync(`${roomStateFile}.tmp`, JSON.stringify(state));
      renameSync(`${roomStateFile}.tmp`, roomStateFile);
    },
    stop: () => handle.agent.stop(),
    restart: async (changes = {}) => {
      await handle.agent.stop();
      await plane.waitForAgentGone();
      handle.agent = await start(changes.graceMs ?? options.graceMs ?? 1000);
    },
  };
  return handle;
}
