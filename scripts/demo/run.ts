import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EnrollmentCode, Room } from '@roomlink/shared';
import { startBrowserHost, writeLaunchPage } from '../../apps/console/src/host/browser-host';
import { ConsoleHost } from '../../apps/console/src/host/console-host';
import { ownerOnlyFile } from '../../apps/console/src/host/token-cache';
import { buildConsole } from '../build-console';
import type { RunningIdp } from '../dev-idp/idp';
import { API_SCOPE, DEFAULT_IDP_PORT, DEV_CLIENT_ID } from '../dev-idp/idp';
import { devSignIn } from '../dev-idp/signin';
import { startDemoAgents } from './agents';
import { seedDemoAlerts, startDemoReceiver } from './alerts';
import { apiPoster, seedDemoTenant } from './seed';

/** The command-line options `npm start` and `npm run cluster` share: the demo's, in `parseArgs` form. */
export const demoArgs = {
  'idp-port': { type: 'string', default: String(DEFAULT_IDP_PORT) },
  'console-port': { type: 'string', default: '47802' },
  'synthetic-rooms': { type: 'string', default: '3' },
  'webhook-port': { type: 'string', default: '47803' },
  'fault-after': { type: 'string', default: '60' },
  display: { type: 'string', default: process.env.DISPLAY },
  'browser-host': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

/** What `demoArgs` does, for each script's `--help`. */
export const demoArgsUsage = `  --idp-port PORT         local sign-in provider port (default ${DEFAULT_IDP_PORT}; keep it fixed, sign-in caches key on it)
  --console-port PORT     the console's browser host (default 47802)
  --synthetic-rooms N     how many demo rooms get a synthetic agent besides the first (default 3)
  --webhook-port PORT     the demo's local webhook receiver (default 47803)
  --fault-after SECONDS   when a demo room's camera fails, to show an incident and its alerts (default 60)
  --display NAME          X display for the first room's agent (default $DISPLAY; synthetic without one)
  --browser-host          use the browser host even when Electron is installed
  --help                  this text`;

export interface DemoOptions {
  /** Where agents, consoles and API calls go: the server, or the load balancer in front of a cluster. */
  serverUrl: string;
  idp: RunningIdp;
  dataDir: string;
  /** The values of `demoArgs`, as parsed. */
  args: { 'console-port': string; 'synthetic-rooms': string; 'webhook-port': string; 'fault-after': string; display?: string; 'browser-host': boolean };
  /** Whether the console shows the mail the local catcher caught (the server runs in this process). */
  mailInConsole: boolean;
}

export interface RunningDemo {
  /** What to tell the person who started it: where the console is, who to sign in as, what to do first. */
  banner: string;
  close(): Promise<void>;
}

/** The Electron binary, when its download worked (it cannot here: see ENVIRONMENT.md). */
function electronBinary(): string | null {
  try {
    const path: unknown = createRequire(join(process.cwd(), 'apps/console/package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/**
 * The demo organisation on a running server (one node or a cluster): seeded
 * once through the API as its administrator would, alerts to the local
 * receiver, room agents, and the console.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const { serverUrl, idp, dataDir, args } = options;
  const log = (message: string, error?: unknown) => console.error(`[console] ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);
  const faultAfterSeconds = Number(args['fault-after']);
  const secretFile = join(dataDir, 'demo-webhook-secret');
  const receiver = await startDemoReceiver(Number(args['webhook-port']), secretFile, (line) => console.log(line));
  const adminToken = (await devSignIn(idp.issuer, idp.caPem, 'admin@contoso.test')).accessToken;
  const apiCall = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(new URL(path, serverUrl), {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const seededMarker = join(dataDir, 'demo-seeded');
  if (!existsSync(seededMarker)) {
    await seedDemoTenant(apiPoster(serverUrl, adminToken));
    writeFileSync(seededMarker, new Date().toISOString());
  }
  await seedDemoAlerts(apiCall, receiver.url, secretFile);
  // Oslo HQ first: the first steps below give the technicians that building.
  const inOslo = (room: Room) => room.locationPath.some((l) => l.name === 'Oslo HQ');
  const rooms = (await apiCall<Room[]>('GET', '/api/rooms')).filter((room) => room.license === 'pro').sort((a, b) => Number(inOslo(b)) - Number(inOslo(a)));
  const agents = await startDemoAgents({
    serverUrl,
    dataDir: join(dataDir, 'agents'),
    rooms: rooms.slice(0, 1 + Number(args['synthetic-rooms'])),
    display: args.display,
    enrollmentCode: (room) => apiCall<EnrollmentCode>('POST', `/api/rooms/${room.id}/enrollment-code`),
    logLevel: 'warn',
  });

  const consoleSettings = { serverUrl, auth: { clientId: DEV_CLIENT_ID, authority: idp.issuer, scopes: [API_SCOPE], protocolMode: 'OIDC' as const, caPem: idp.caPem } };
  let consoleLine: string;
  let electron: ChildProcess | null = null;
  let closeConsole = async () => undefined as void;
  const electronPath = args['browser-host'] ? null : electronBinary();
  if (electronPath) {
    await buildConsole();
    electron = spawn(electronPath, ['apps/console'], {
      stdio: 'inherit',
      env: { ...process.env, ROOMLINK_SERVER: serverUrl, ROOMLINK_AUTHORITY: idp.issuer, ROOMLINK_AUTHORITY_CA_FILE: idp.caFile, ROOMLINK_CLIENT_ID: DEV_CLIENT_ID, ROOMLINK_SCOPE: API_SCOPE },
    });
    consoleLine = 'the Electron console window';
    closeConsole = async () => void electron?.kill();
  } else {
    const host = await ConsoleHost.open({ ...consoleSettings, dataDir: join(dataDir, 'console'), box: ownerOnlyFile, deviceName: `browser host on ${hostname()}`, helpUrl: '/help', log });
    const web = await startBrowserHost({ host, port: Number(args['console-port']), log });
    consoleLine = web.url;
    closeConsole = async () => {
      await web.close();
      await host.close();
    };
    if (args.display) spawn('xdg-open', [writeLaunchPage(join(dataDir, 'console'), web.url)], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
  }

  // A camera that fails a while after start: an incident opens a minute later, and its alerts go out.
  const faulty = agents.find((a) => a.platform === 'synthetic');
  if (faulty) setTimeout(() => writeFileSync(faulty.roomStateFile, JSON.stringify({ signals: { camera: 'error' } })), faultAfterSeconds * 1000).unref();

  const banner = `  console           ${consoleLine}
  sign-in provider  ${idp.issuer}   (its certificate comes from a local CA: ${idp.caFile}; your browser will warn once)

Accounts (pick one on the sign-in page; no password in development):
${idp.accounts
  .filter((a) => a.tid === 'contoso')
  .map((a) => `  ${a.username.padEnd(22)} ${a.name}${a.wids.length ? ' — Global Administrator' : ''}${a.groups.length ? ` — group ${a.groups.join(', ')}` : ''}`)
  .join('\n')}

Rooms with a live agent: ${agents.map((a) => `${a.room.name} (${a.platform})`).join(', ')}.
Monitoring: ${faulty ? `${faulty.room.name}'s camera fails in ${faultAfterSeconds} s and an incident opens a minute later: ` : ''}see Dashboard and Incidents;
  alert mail is caught locally${options.mailInConsole ? ' (Settings › Alerts shows it and every delivery)' : ''}, webhooks go to ${receiver.url} and print here.
Remote access is off, as the product ships. What to do first:
  1. Open the console and sign in as admin@contoso.test.
  2. Settings › Remote Access: enable it with your email.
  3. Settings › Roles › New custom role: give "Remote Access: Modify" to the group room-technicians
     for the building "Oslo HQ".
  4. Sign out, sign in as tech@contoso.test, open ${agents[0]?.room.name ?? 'a room with an agent'} › Remote Access › Start session.
Ctrl+C stops everything.`;
  return {
    banner,
    close: async () => {
      await closeConsole();
      await Promise.all(agents.map((a) => a.agent.stop()));
      await receiver.close();
    },
  };
}

/** Ctrl+C (or SIGTERM) stops everything once, in order, then exits: wrtc keeps native threads alive (ENVIRONMENT.md). */
export function stopOnSignal(parts: readonly { close(): Promise<void> }[]): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      void (async () => {
        for (const part of parts) await part.close();
        process.exit(0);
      })();
    });
  }
}
