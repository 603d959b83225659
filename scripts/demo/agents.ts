import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnrollmentCode, Platform, Room } from '@roomlink/shared';
import { AGENT_VERSION, type RoomAgent } from '../../apps/room-agent/src/core/agent';
import { enroll, identityPath } from '../../apps/room-agent/src/core/identity';
import { createLogger, RecentLines } from '../../apps/room-agent/src/core/log';
import { startAgent } from '../../apps/room-agent/src/run';

export interface DemoAgent {
  room: Room;
  platform: Platform;
  agent: RoomAgent;
  roomStateFile: string;
}

/** Health the demo rooms report, so the list shows every state a technician meets. */
const demoStates: { inCall?: boolean; signals?: Record<string, string> }[] = [{}, { signals: { camera: 'warning' } }, { signals: { app: 'error' } }, { inCall: true }];

export interface RoomAgentOptions {
  serverUrl: string;
  room: Room;
  dataDir: string;
  platform: Platform;
  display?: string;
  /** Asked for only when the data directory holds no identity yet. */
  enrollmentCode(room: Room): Promise<EnrollmentCode>;
  restartCommand: string;
  graceMs: number;
  loopbackOnly: boolean;
  logLevel: string;
}

/** One room's agent, in this process: enrolled with a code from the server on first use, then started. */
export async function startRoomAgent(options: RoomAgentOptions): Promise<{ agent: RoomAgent; roomStateFile: string }> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(identityPath(options.dataDir))) {
    const { code } = await options.enrollmentCode(options.room);
    await enroll({ serverUrl: options.serverUrl, code, dataDir: options.dataDir, platform: options.platform, agentVersion: AGENT_VERSION });
  }
  const roomStateFile = join(options.dataDir, 'room-state.json');
  const recentLog = new RecentLines();
  const agent = await startAgent({
    dataDir: options.dataDir,
    platform: options.platform,
    display: options.platform === 'x11' ? options.display : undefined,
    displayMapping: {},
    roomStateFile,
    restartCommand: options.restartCommand,
    graceMs: options.graceMs,
    loopbackOnly: options.loopbackOnly,
    log: createLogger(options.logLevel, recentLog),
    recentLog,
  });
  return { agent, roomStateFile };
}

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
    const roomStateFile = join(dataDir, 'room-state.json');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (!existsSync(roomStateFile)) writeFileSync(roomStateFile, JSON.stringify(index === 0 ? {} : demoStates[index % demoStates.length]));
    const { agent } = await startRoomAgent({
      ...options,
      room,
      dataDir,
      platform,
      restartCommand: `echo "demo: ${room.name} would restart now"`,
      graceMs: 15_000,
      loopbackOnly: false,
    });
    agents.push({ room, platform, agent, roomStateFile });
  }
  return agents;
}
