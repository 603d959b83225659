import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVER_PORT, defaultTimings, startServer } from '../apps/server/src/server';
import { DEFAULT_IDP_PORT, startIdp } from './dev-idp/idp';

const usage = `npm start [-- options]: runs Roomlink locally on embedded defaults.

  --data-dir DIR   where everything keeps its data (default ./.roomlink)
  --port PORT      server port (default ${DEFAULT_SERVER_PORT})
  --idp-port PORT  local sign-in provider port (default ${DEFAULT_IDP_PORT}; keep it fixed, sign-in caches key on it)
  --reset          delete the data directory first
  --help           this text
`;

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'idp-port': { type: 'string' }, reset: { type: 'boolean' }, help: { type: 'boolean' } },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const dataDir = resolve(values['data-dir'] ?? '.roomlink');
if (values.reset) rmSync(dataDir, { recursive: true, force: true });

const idp = await startIdp({ dataDir: resolve(dataDir, 'idp'), port: Number(values['idp-port'] ?? DEFAULT_IDP_PORT) });
const server = await startServer({
  dataDir: resolve(dataDir, 'server'),
  host: '127.0.0.1',
  port: Number(values.port ?? DEFAULT_SERVER_PORT),
  auth: { issuer: idp.issuer, audience: 'api://roomlink', acceptedTypes: ['at+jwt', 'JWT'], groupsClaim: 'groups', caPem: idp.caPem },
  iceServers: [],
  ...defaultTimings,
  logLevel: 'warn',
  now: () => new Date(),
});

console.log(`
Roomlink is running.
  server            ${server.url}   (API: ${server.url}/openapi.json)
  sign-in provider  ${idp.issuer}   (CA: ${idp.caFile})

Accounts (pick one on the sign-in page; no password in development):
${idp.accounts.map((a) => `  ${a.username.padEnd(22)} ${a.name}${a.wids.length ? ', Global Administrator' : ''}${a.groups.length ? `, groups: ${a.groups.join(', ')}` : ''}`).join('\n')}

Remote access starts off: an administrator turns it on first (PUT /api/settings/remote-access).
Ctrl+C stops everything.
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([server.close(), idp.close()]).then(() => process.exit(0));
  });
}
