import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditSummary, auditTypeLabels, type AuditRecord } from '@roomlink/shared';
import { DEFAULT_SERVER_PORT, defaultTimings, startServer } from '../apps/server/src/server';
import { startMailCatcher } from '../apps/server/src/alerts/mail-catcher';
import { demoArgs, demoArgsUsage, startDemo, stopOnSignal } from './demo/run';
import { devTenants } from './dev-idp/accounts';
import { API_AUDIENCE, startIdp } from './dev-idp/idp';

const usage = `npm start [-- options]: runs the whole of Roomlink locally on embedded defaults:
the sign-in provider, the server on SQLite with a demo organization, room agents, and the console.

  --data-dir DIR          where everything keeps its data (default ./.roomlink)
  --port PORT             server port (default ${DEFAULT_SERVER_PORT})
${demoArgsUsage}
  --reset                 delete the data directory first (a fresh demo organization)
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.roomlink' },
    port: { type: 'string', default: String(DEFAULT_SERVER_PORT) },
    reset: { type: 'boolean', default: false },
    ...demoArgs,
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const dataDir = resolve(values['data-dir']);
if (values.reset) rmSync(dataDir, { recursive: true, force: true });

const idp = await startIdp({ dataDir: join(dataDir, 'idp'), port: Number(values['idp-port']) });
// Alert mail lands in an SMTP catcher in this process; the console shows it under Settings › Alerts.
const mailCatcher = await startMailCatcher();
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

const demo = await startDemo({ serverUrl: server.url, idp, dataDir, args: values, mailInConsole: true });

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

stopOnSignal([demo, mailCatcher, server, idp]);
