import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditSummary, auditTypeLabels, type AuditRecord, type EnrollmentCode, type Room } from '@roomlink/shared';
import { startBrowserHost, writeLaunchPage } from '../apps/console/src/host/browser-host';
import { ConsoleHost } from '../apps/console/src/host/console-host';
import { ownerOnlyFile } from '../apps/console/src/host/token-cache';
import { DEFAULT_SERVER_PORT, defaultTimings, startServer } from '../apps/server/src/server';
import { buildConsole } from './build-console';
import { startMailCatcher } from '../apps/server/src/alerts/mail-catcher';
import { startDemoAgents } from './demo/agents';
import { seedDemoAlerts, startDemoReceiver } from './demo/alerts';
import { apiPoster, seedDemoTenant } from './demo/seed';
import { devTenants } from './dev-idp/accounts';
import { API_AUDIENCE, API_SCOPE, DEFAULT_IDP_PORT, DEV_CLIENT_ID, startIdp } from './dev-idp/idp';
import { devSignIn } from './dev-idp/signin';

const usage = `npm start [-- options]: runs the whole of Roomlink locally on embedded defaults:
the sign-in provider, the server on SQLite with a demo organization, room agents, and the console.

  --data-dir DIR          where everything keeps its data (default ./.roomlink)
  --port PORT             server port (default ${DEFAULT_SERVER_PORT})
  --idp-port PORT         local sign-in provider port (default ${DEFAULT_IDP_PORT}; keep it fixed, sign-in caches key on it)
  --console-port PORT     the console's browser host (default 47802)
  --synthetic-rooms N     how many demo rooms get a synthetic agent besides the first (default 3)
  --webhook-port PORT     the demo's local webhook receiver (default 47803)
  --fault-after SECONDS   when a demo room's camera fails, to show an incident and its alerts (default 60)
  --display NAME          X display for the first room's agent (default $DISPLAY; synthetic without one)
  --browser-host          use the browser host even when Electron is installed
  --reset                 delete the data directory first (a fresh demo organization)
  --help                  this text
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.roomlink' },
    port: { type: 'string', default: String(DEFAULT_SERVER_PORT) },
    'idp-port': { type: 'string', default: String(DEFAULT_IDP_PORT) },
    'console-port': { type: 'string', default: '47802' },
    'synthetic-rooms': { type: 'string', default: '3' },
    'webhook-port': { type: 'string', default: '47803' },
    'fault-after': { type: 'string', default: '60' },
    display: { type: 'string', default: process.env.DISPLAY },
    'browser-host': { type: 'boolean', default: false },
    reset: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const dataDir = resolve(values['data-dir']);
if (values.reset) rmSync(dataDir, { recursive: true, force: true });
const log = (message: string, error?: unknown) => console.error(`[console] ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);

const idp = await startIdp({ dataDir: join(dataDir, 'idp'), port: Number(values['idp-port']) });
// Alert mail lands in an SMTP catcher in this process; the console shows it under Settings › Alerts.
const mailCatcher = await startMailCatcher();
const webhookSecretFile = join(dataDir, 'demo-webhook-secret');
const receiver = await startDemoReceiver(Number(values['webhook-port']), webhookSecretFile, (line) => console.log(line));
const server = await startServer({
  smtp: { host: '127.0.0.1', port: mailCatcher.port, secure: false, from: 'roomlink@contoso.test' },
  mailCatcher,
  dataDir: join(dataDir, 'server'),
  tenants: devTenants,
  host: '127.0.0.1',
  port: Number(values.port),
  auth: { issuer: idp.issuer, audience: API_AUDIENCE, acceptedTypes: ['at+jwt', 'JWT'], groupsClaim: 'groups', caPem: idp.caPem },
  ...defaultTimings,
  logLevel: 'warn',
  now: () => new Date(),
});

// The demo organization, made once through the server's own API as its administrator would.
const adminToken = (await devSignIn(idp.issuer, idp.caPem, 'admin@contoso.test')).accessToken;
const apiCall = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
};
const api = <T>(method: string, path: string): Promise<T> => apiCall<T>(method, path);
const seededMarker = join(dataDir, 'demo-seeded');
if (!existsSync(seededMarker)) {
  await seedDemoTenant(apiPoster(server.url, adminToken));
  writeFileSync(seededMarker, new Date().toISOString());
}
await seedDemoAlerts(<T>(method: string, path: string, body?: unknown) => apiCall<T>(method, path, body), receiver.url, webhookSecretFile);
// Oslo HQ first: the first steps below give the technicians that building.
const inOslo = (room: Room) => room.locationPath.some((l) => l.name === 'Oslo HQ');
const rooms = (await api<Room[]>('GET', '/api/rooms')).filter((room) => room.license === 'pro').sort((a, b) => Number(inOslo(b)) - Number(inOslo(a)));
const agents = await startDemoAgents({
  serverUrl: server.url,
  dataDir: join(dataDir, 'agents'),
  rooms: rooms.slice(0, 1 + Number(values['synthetic-rooms'])),
  display: values.display,
  enrollmentCode: (room) => api<EnrollmentCode>('POST', `/api/rooms/${room.id}/enrollment-code`),
  logLevel: 'warn',
});

/** The Electron binary, when its download worked (it cannot here: see ENVIRONMENT.md). */
function electronBinary(): string | null {
  try {
    const path: unknown = createRequire(join(process.cwd(), 'apps/console/package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const consoleSettings = { serverUrl: server.url, auth: { clientId: DEV_CLIENT_ID, authority: idp.issuer, scopes: [API_SCOPE], protocolMode: 'OIDC' as const, caPem: idp.caPem } };
let consoleLine: string;
let electron: ChildProcess | null = null;
let closeConsole = async () => undefined as void;
const electronPath = values['browser-host'] ? null : electronBinary();
if (electronPath) {
  await buildConsole();
  electron = spawn(electronPath, ['apps/console'], {
    stdio: 'inherit',
    env: { ...process.env, ROOMLINK_SERVER: server.url, ROOMLINK_AUTHORITY: idp.issuer, ROOMLINK_AUTHORITY_CA_FILE: idp.caFile, ROOMLINK_CLIENT_ID: DEV_CLIENT_ID, ROOMLINK_SCOPE: API_SCOPE },
  });
  consoleLine = 'the Electron console window';
  closeConsole = async () => void electron?.kill();
} else {
  const host = await ConsoleHost.open({ ...consoleSettings, dataDir: join(dataDir, 'console'), box: ownerOnlyFile, deviceName: `browser host on ${hostname()}`, helpUrl: '/help', log });
  const web = await startBrowserHost({ host, port: Number(values['console-port']), log });
  consoleLine = web.url;
  closeConsole = async () => {
    await web.close();
    await host.close();
  };
  if (values.display) spawn('xdg-open', [writeLaunchPage(join(dataDir, 'console'), web.url)], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
}

// A camera that fails a while after start: an incident opens a minute later, and its alerts go out.
const faulty = agents.find((a) => a.platform === 'synthetic');
if (faulty) {
  setTimeout(() => writeFileSync(faulty.roomStateFile, JSON.stringify({ signals: { camera: 'error' } })), Number(values['fault-after']) * 1000).unref();
}

console.log(`
Roomlink is running.
  console           ${consoleLine}
  server            ${server.url}   (API: ${server.url}/openapi.json)
  sign-in provider  ${idp.issuer}   (its certificate comes from a local CA: ${idp.caFile}; your browser will warn once)

Accounts (pick one on the sign-in page; no password in development):
${idp.accounts
  .filter((a) => a.tid === 'contoso')
  .map((a) => `  ${a.username.padEnd(22)} ${a.name}${a.wids.length ? ' — Global Administrator' : ''}${a.groups.length ? ` — group ${a.groups.join(', ')}` : ''}`)
  .join('\n')}

Rooms with a live agent: ${agents.map((a) => `${a.room.name} (${a.platform})`).join(', ')}.
Monitoring: ${faulty ? `${faulty.room.name}'s camera fails in ${values['fault-after']} s and an incident opens a minute later: ` : ''}see Dashboard and Incidents;
  alert mail is caught locally (Settings › Alerts shows it and every delivery), webhooks go to ${receiver.url} and print here.
Remote access is off, as the product ships. What to do first:
  1. Open the console and sign in as admin@contoso.test.
  2. Settings › Remote Access: enable it with your email.
  3. Settings › Roles › New custom role: give "Remote Access: Modify" to the group room-technicians
     for the building "Oslo HQ".
  4. Sign out, sign in as tech@contoso.test, open ${agents[0]?.room.name ?? 'a room with an agent'} › Remote Access › Start session.
Ctrl+C stops everything.
`);

/** Session starts, ends and restarts as they happen, so the terminal shows what the room went through. */
const printed = new Set<AuditRecord['type']>(['session.started', 'session.ended', 'session.refused', 'session.lowered', 'room.restartRequested', 'incident.opened', 'incident.changed']);
server.services.audit.subscribe((record) => {
  if (!printed.has(record.type)) return;
  const details = auditSummary(record);
  console.log(`[${new Date(record.at).toLocaleTimeString()}] ${auditTypeLabels[record.type]}: ${record.roomName ?? ''}${record.actorName ? `, ${record.actorName}` : ''}${details ? ` · ${details}` : ''}`);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await closeConsole();
      await receiver.close();
      await mailCatcher.close();
      await Promise.all(agents.map((a) => a.agent.stop()));
      await server.close();
      await idp.close();
      // wrtc keeps native threads alive: exit explicitly (ENVIRONMENT.md).
      process.exit(0);
    })();
  });
}
