import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrollmentCode, Platform, Room } from '@roomlink/shared';
import type { RoomAgent } from '../../apps/room-agent/src/core/agent';
import { enroll, identityPath } from '../../apps/room-agent/src/core/identity';
import { createLogger } from '../../apps/room-agent/src/core/log';
import { startAgent } from '../../apps/room-agent/src/run';

export interface DemoAgent {
  room: Room;
  platform: Platform;
  agent: RoomAgent;
  roomStateFile: string;
}

/** Health the demo rooms report, so the list shows every state a technician meets. */
const demoStates: { inCall?: boolean; signals?: Record<string, string> }[] = [{}, { signals: { camera: 'warning' } }, { signals: { app: 'error' } }, { inCall: true }];

/**
 * Enrolls (first run only) and starts one agent per room, in this process:
 * the first on x11 when a display is given, the rest synthetic.
 */
export async function startDemoAgents(options: {
  serverUrl: string;
  dataDir: string;
  rooms: Room[];
  display: string | undefined;
  enrollmentCode(room: Room): Promise<EnrollmentCode>;
  logLevel: string;
}): Promise<DemoAgent[]> {
  const agents: DemoAgent[] = [];
  for (const [index, room] of options.rooms.entries()) {
    const platform: Platform = index === 0 && options.display ? 'x11' : 'synthetic';
    const dataDir = join(options.dataDir, room.id);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!existsSync(identityPath(dataDir))) {
      const { code } = await options.enrollmentCode(room);
      await enroll({ serverUrl: options.serverUrl, code, dataDir, platform, agentVersion: 'demo' });
    }
    const roomStateFile = join(dataDir, 'room-state.json');
    if (!existsSync(roomStateFile)) writeFileSync(roomStateFile, JSON.stringify(index === 0 ? {} : demoStates[index % demoStates.length]));
    const agent = await startAgent({
      dataDir,
      platform,
      display: platform === 'x11' ? options.display : undefined,
      displayMapping: {},
      roomStateFile,
      restartCommand: `echo "demo: ${room.name} would restart now"`,
      graceMs: 15_000,
      loopbackOnly: false,
      log: createLogger(options.logLevel),
    });
    agents.push({ room, platform, agent, roomStateFile });
  }
  return agents;
}
