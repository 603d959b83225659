import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMailCatcher } from '../../apps/server/src/alerts/mail-catcher';
import { demoArgs, demoArgsUsage, startDemo, stopOnSignal } from '../demo/run';
import { startIdp } from '../dev-idp/idp';
import { startCluster } from './cluster';

const usage = `npm run cluster [-- options]: runs Roomlink as a large organisation would, on this machine:
PostgreSQL, Redis, coturn, server nodes and HAProxy in front of them (Debian packages), the sign-in
provider, the demo organisation with room agents spread over the nodes, and the console.

  --data-dir DIR          where everything keeps its data (default ./.roomlink-cluster)
  --nodes N               server nodes (default 3)
${demoArgsUsage}

The cluster's database and Redis are throwaway: each run starts from a fresh data directory.
`;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.roomlink-cluster' },
    nodes: { type: 'string', default: '3' },
    ...demoArgs,
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

const idp = await startIdp({ dataDir: join(dataDir, 'idp'), port: Number(values['idp-port']) });
const mailCatcher = await startMailCatcher();
const cluster = await startCluster({
  dir: join(dataDir, 'cluster'),
  nodes: nodeCount,
  issuer: idp.issuer,
  caFile: idp.caFile,
  nodeArgs: ['--smtp', `smtp://127.0.0.1:${mailCatcher.port}`, '--smtp-from', 'roomlink@contoso.test'],
});
const demo = await startDemo({ serverUrl: cluster.url, idp, dataDir, args: values, mailInConsole: false });

console.log(`
Roomlink is running as a cluster.
  load balancer     ${cluster.url}   (HAProxy; API: ${cluster.url}/openapi.json)
  server nodes      ${cluster.nodes.map((node) => node.url).join('  ')}
  PostgreSQL        ${cluster.postgres.url}
  Redis             ${cluster.redis.url}
  TURN (coturn)     ${cluster.coturn.urls.join('  ')}
${demo.banner}
`);

stopOnSignal([demo, mailCatcher, cluster, idp]);
