import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditSummary, auditTypeLabels, type AuditRecord } from '@roomlink/shared';
import { DEFAULT_SERVER_PORT, defaultTimings, startServer } from '../apps/server/src/server';
import { startMailCatcher } from '../apps/server/src/alerts/mail-catcher';
import { startDemoReceiver } from './demo/alerts';
import { startDemo, stopOnSignal } from './demo/run';
import { devTenants } from './dev-idp/accounts';
import { API_AUDIENCE, DEFAULT_IDP_PORT, startIdp } from './dev-idp/idp';

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

const demo = await startDemo({
  serverUrl: server.url,
  idp,
  dataDir,
  consolePort: Number(values['console-port']),
  syntheticRooms: Number(values['synthetic-rooms']),
  faultAfterSeconds: Number(values['fault-after']),
  display: values.display,
  browserHost: values['browser-host'],
  receiver: { url: receiver.url, secretFile: webhookSecretFile },
  mailInConsole: true,
  log,
});

console.log(`
Roomlink is running.
  server            ${server.url}   (API: ${server.url}/openapi.json)
${demo.banner}
`);

/** Session starts, ends and restarts as they happen, so the terminal shows what the room went through. */
const printed = new Set<AuditRecord['type']>(['session.started', 'session.ended', 'session.refused', 'session.lowered', 'room.restartRequested', 'incident.opened', 'incident.changed']);
server.services.audit.subscribe((record) => {
  if (!printed.has(record.type)) return;
  const details = auditSummary(record);
  console.log(`[${new Date(record.at).toLocaleTimeString()}] ${auditTypeLabels[record.type]}: ${record.roomName ?? ''}${record.actorName ? `, ${record.actorName}` : ''}${details ? ` · ${details}` : ''}`);
});

stopOnSignal([demo, receiver, mailCatcher, server, idp]);
