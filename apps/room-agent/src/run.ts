import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Platform as PlatformName } from '@roomlink/shared';
import { AGENT_VERSION, RoomAgent } from './core/agent';
import { parseDisplayMapping, type DisplayMapping } from './core/displays';
import { defaultPumpOptions } from './core/picture/picture-pump';
import { AgentSetupError, enroll, ensureDataDir, loadIdentity } from './core/identity';
import { EndReports } from './core/end-reports';
import { FileGrantLedger } from './core/ledger';
import { createLogger, RecentLines, type Logger } from './core/log';
import { defaultMediaOptions } from './core/media';
import type { Overlay, Platform } from './core/platform';
import { FileRoomState } from './core/room-state-file';

const usage = `Roomlink room agent ${AGENT_VERSION}

  roomlink-agent enroll --server URL --code CODE [--data-dir DIR]
  roomlink-agent run [options]

Options for run:
  --data-dir DIR          where the device key and pinned server key live (default ./.roomlink/agent)
  --platform NAME         auto | x11 | synthetic | windows (auto: x11 when DISPLAY is set, windows on win32, else synthetic)
  --display NAME          X display for x11 (default $DISPLAY)
  --displays MAPPING      e.g. console=DUMMY0,frontOfRoom1=DUMMY1,frontOfRoom2=DUMMY2
  --room-state FILE       JSON file with the room app's state (default DATA_DIR/room-state.json)
  --restart-command CMD   how to restart the device on x11 (default "systemctl reboot")
  --grace-ms N            how long a session outlives a lost server (default 15000)
  --loopback-only         gather and accept only 127.0.0.1/::1 candidates (tests, the local demo)
  --log-level LEVEL       trace | debug | info | warn | error (default info)`;

const options = {
  server: { type: 'string' },
  code: { type: 'string' },
  'data-dir': { type: 'string', default: process.env.ROOMLINK_AGENT_DATA ?? '.roomlink/agent' },
  platform: { type: 'string', default: 'auto' },
  display: { type: 'string' },
  displays: { type: 'string', default: '' },
  'room-state': { type: 'string' },
  'restart-command': { type: 'string', default: 'systemctl reboot' },
  'grace-ms': { type: 'string', default: '15000' },
  'loopback-only': { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'info' },
  help: { type: 'boolean', default: false },
} as const;

export interface AgentConfig {
  dataDir: string;
  platform: PlatformName;
  display: string | undefined;
  displayMapping: DisplayMapping;
  roomStateFile: string;
  restartCommand: string;
  graceMs: number;
  loopbackOnly: boolean;
  log: Logger;
  /** The lines `log` writes, kept for log bundles. */
  recentLog?: RecentLines;
}

export function pickPlatform(requested: string, env: NodeJS.ProcessEnv, os: NodeJS.Platform): PlatformName {
  if (requested !== 'auto') {
    const parsed = PlatformName.safeParse(requested);
    if (!parsed.success) throw new AgentSetupError('usage', `Unknown platform "${requested}": use auto, x11, synthetic or windows.`);
    return parsed.data;
  }
  if (os === 'win32') return 'windows';
  return env.DISPLAY ? 'x11' : 'synthetic';
}

/** Builds the platform by name; each adapter is loaded only when chosen, since each loads native code for its own OS. */
export async function createPlatform(config: AgentConfig, overlay?: Overlay): Promise<Platform> {
  const roomState = new FileRoomState(config.roomStateFile, (why) => config.log.warn({ file: config.roomStateFile, why }, 'ignored an invalid room state file'));
  const logDir = join(config.dataDir, 'logs');
  switch (config.platform) {
    case 'synthetic': {
      const { syntheticPlatform } = await import('./platform/synthetic/index');
      return syntheticPlatform({ roomState, logDir });
    }
    case 'x11': {
      const display = config.display ?? process.env.DISPLAY;
      if (!display) throw new AgentSetupError('usage', 'The x11 platform needs --display or DISPLAY.');
      const { x11Platform } = await import('./platform/x11/index');
      return x11Platform({ display, roomState, restartCommand: config.restartCommand, logDir, log: config.log });
    }
    case 'windows': {
      if (!overlay) throw new AgentSetupError('usage', 'The windows platform runs inside the Electron host (src/electron), which draws the ring.');
      const { windowsPlatform } = await import('./platform/windows/index');
      return windowsPlatform({ overlay, roomState, logDir });
    }
  }
}

/** Starts an enrolled agent; the caller stops it. */
export async function startAgent(config: AgentConfig, overlay?: Overlay): Promise<RoomAgent> {
  const identity = loadIdentity(config.dataDir);
  const ledger = new FileGrantLedger(join(config.dataDir, 'grants.json'));
  const platform = await createPlatform(config, overlay);
  const agent = new RoomAgent(identity, platform, {
    displayMapping: config.displayMapping,
    graceMs: config.graceMs,
    healthIntervalMs: 60_000,
    reconnectBaseMs: 500,
    reconnectCapMs: 30_000,
    media: { ...defaultMediaOptions, loopbackOnly: config.loopbackOnly },
    pump: defaultPumpOptions,
    ledger,
    reports: new EndReports(join(config.dataDir, 'end-reports.json')),
    log: config.log,
    ...(config.recentLog && { recentLog: config.recentLog }),
  });
  await agent.start();
  return agent;
}

/** The CLI. Returns the exit code; `run` resolves only when the agent is told to stop. */
export async function runAgent(argv: string[], host: { overlay?: Overlay } = {}): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${usage}\n`);
    return command || values.help ? 0 : 2;
  }
  const recentLog = new RecentLines();
  const log = createLogger(values['log-level'], recentLog);
  const dataDir = resolve(values['data-dir']);
  try {
    const platform = pickPlatform(values.platform, process.env, process.platform);
    if (command === 'enroll') {
      if (!values.server || !values.code) throw new AgentSetupError('usage', 'enroll needs --server URL and --code CODE.');
      ensureDataDir(dataDir);
      const identity = await enroll({ serverUrl: values.server, code: values.code, dataDir, platform, agentVersion: AGENT_VERSION });
      process.stdout.write(`Enrolled as room "${identity.roomName}" (${identity.roomId}). Data in ${dataDir}.\n`);
      return 0;
    }
    if (command !== 'run') throw new AgentSetupError('usage', `Unknown command "${command}": use enroll or run.`);
    const graceMs = Number(values['grace-ms']);
    if (!Number.isInteger(graceMs) || graceMs < 0) throw new AgentSetupError('usage', '--grace-ms must be a whole number of milliseconds.');
    const agent = await startAgent(
      {
        dataDir,
        platform,
        display: values.display,
        displayMapping: parseDisplayMapping(values.displays),
        roomStateFile: values['room-state'] ?? join(dataDir, 'room-state.json'),
        restartCommand: values['restart-command'],
        graceMs,
        loopbackOnly: values['loopback-only'],
        log,
        recentLog,
      },
      host.overlay,
    );
    log.info({ roomId: agent.identity.roomId, platform }, 'agent running');
    const lost = await new Promise<Error | null>((done) => {
      // Kept (not once): a signal may come twice, from a service manager and from the process that relaunched this one (see `allocator.ts`), and the second must not cut the stop short.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => done(null));
      // Relaunched with an IPC channel, which closes when the process that started this one is gone.
      process.once('disconnect', () => done(null));
      void agent.platform.lost?.then(done);
    });
    await agent.stop(lost ? 'error' : 'agent_ended');
    if (lost) process.stderr.write(`roomlink-agent: ${lost.message}; exiting so that the service starts again.\n`);
    return lost ? 1 : 0;
  } catch (error) {
    if (error instanceof AgentSetupError) {
      process.stderr.write(`roomlink-agent: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
