import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMailCatcher } from '../../apps/server/src/alerts/mail-catcher';
import { startDemoReceiver } from '../demo/alerts';
import { startDemo, stopOnSignal } from '../demo/run';
import { DEFAULT_IDP_PORT, startIdp } from '../dev-idp/idp';
import { startCluster } from './cluster';

const usage = `npm run cluster [-- options]: runs Roomlink as a large organisation would, on this machine:
PostgreSQL, Redis, coturn, server nodes and HAProxy in front of them (Debian packages), the sign-in
provider, the demo organisation with room agents spread over the nodes, and the console.

  --data-dir DIR          where everything keeps its data (default ./.roomlink-cluster)
  --nodes N               server nodes (default 3)
  --idp-port PORT         local sign-in provider port (default ${DEFAULT_IDP_PORT}; keep it fixed, sign-in caches key on it)
  --console-port PORT     the console's browser host (default 47802)
  --synthetic-rooms N     how many demo rooms get a synthetic agent besides the first (default 3)
  --webhook-port PORT     the demo's local webhook receiver (default 47803)
  --fault-after SECONDS   when a demo room's camera fails, to show an incident and its alerts (default 60)
  --display NAME          X display for the first room's agent (default $DISPLAY; synthetic without one)
  --browser-host          use the browser host even when Electron is installed
  --help                  this text

The cluster's database and Redis are throwaway: each run starts from a fresh data directory.
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.roomlink-cluster' },
    nodes: { type: 'string', default: '3' },
    'idp-port': { type: 'string', default: String(DEFAULT_IDP_PORT) },
    'console-port': { type: 'string', default: '47802' },
    'synthetic-rooms': { type: 'string', default: '3' },
    'webhook-port': { type: 'string', default: '47803' },
    'fault-after': { type: 'string', default: '60' },
    display: { type: 'string', default: process.env.DISPLAY },
    'browser-host': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const nodeCount = Number(values.nodes);
if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error('--nodes takes a whole number, 1 or more');
const dataDir = resolve(values['data-dir']);
// A fresh cluster each run: its PostgreSQL is initialised into the directory.
rmSync(dataDir, { recursive: true, force: true });
const log = (message: string, error?: unknown) => console.error(`[console] ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);

const idp = await startIdp({ dataDir: join(dataDir, 'idp'), port: Number(values['idp-port']) });
const mailCatcher = await startMailCatcher();
const webhookSecretFile = join(dataDir, 'demo-webhook-secret');
const receiver = await startDemoReceiver(Number(values['webhook-port']), webhookSecretFile, (line) => console.log(line));
const cluster = await startCluster({
  dir: join(dataDir, 'cluster'),
  nodes: nodeCount,
  issuer: idp.issuer,
  caFile: idp.caFile,
  nodeArgs: ['--smtp', `smtp://127.0.0.1:${mailCatcher.port}`, '--smtp-from', 'roomlink@contoso.test'],
});
const demo = await startDemo({
  serverUrl: cluster.url,
  idp,
  dataDir,
  consolePort: Number(values['console-port']),
  syntheticRooms: Number(values['synthetic-rooms']),
  faultAfterSeconds: Number(values['fault-after']),
  display: values.display,
  browserHost: values['browser-host'],
  receiver: { url: receiver.url, secretFile: webhookSecretFile },
  mailInConsole: false,
  log,
});

console.log(`
Roomlink is running as a cluster.
  load balancer     ${cluster.url}   (HAProxy; API: ${cluster.url}/openapi.json)
  server nodes      ${cluster.nodes.map((node) => node.url).join('  ')}
  PostgreSQL        ${cluster.postgres.url}
  Redis             ${cluster.redis.url}
  TURN (coturn)     ${cluster.coturn.urls.join('  ')}
${demo.banner}
`);

stopOnSignal([demo, receiver, mailCatcher, cluster, idp]);
