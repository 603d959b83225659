import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type Coturn } from '../services/coturn';
import { startHaproxy, type Haproxy } from '../services/haproxy';
import { startPostgres, type Postgres } from '../services/postgres';
import { startRedis, type Redis } from '../services/redis';
import { startNodeProcess, type NodeProcess } from './node-process';

export interface ClusterOptions {
  /** Where every part keeps its data; created if missing. */
  dir: string;
  /** Server nodes (default 3). */
  nodes?: number;
  /** The sign-in provider the nodes trust. */
  issuer: string;
  caFile: string;
  /** PostgreSQL that survives a crash of the machine (default off: a throwaway cluster for a demo or a benchmark). */
  durable?: boolean;
  /** More options for every node (`main.ts --help`). */
  nodeArgs?: string[];
  /** Options for Node itself in every node (profiling, heap size). */
  nodeOptions?: string[];
  /** Connections at once through HAProxy (see `startHaproxy`). */
  maxconn?: number;
}

export interface RunningCluster {
  /** Where agents, consoles and API callers connect: HAProxy. */
  url: string;
  /** Every node, also reachable directly. */
  nodes: NodeProcess[];
  postgres: Postgres;
  redis: Redis;
  coturn: Coturn;
  haproxy: Haproxy;
  close(): Promise<void>;
}

/**
 * A whole Roomlink cluster on this machine, from Debian's packages:
 * PostgreSQL (initdb into a fresh directory, removed on close), Redis, coturn with a fresh shared secret,
 * `nodes` server processes on that store and Redis, and HAProxy in front of
 * them. The nodes share one data directory: the grant-signing key that
 * agents pin and the audit checkpoint key and file (on real machines, a
 * shared volume or the same files on each). Nothing else is shared between
 * them, and any of them serves any agent, console or request.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  mkdirSync(options.dir, { recursive: true });
  const secret = randomBytes(24).toString('base64url');
  const secretFile = join(options.dir, 'turn-secret');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  // PostgreSQL runs as its own user when we are root, so its directory is one that user can reach: a fresh one under /tmp (the data directory is the owner's alone).
  const postgresDir = mkdtempSync(join(tmpdir(), 'roomlink-cluster-pg-'));
  const postgres = await startPostgres({ dir: postgresDir, durable: options.durable ?? false });
  const redis = await startRedis({ dir: join(options.dir, 'redis') });
  const coturn = await startCoturn({ dir: mkdirFor(join(options.dir, 'coturn')), secret });
  const args = [
    '--data-dir',
    join(options.dir, 'server'),
    '--database-url',
    postgres.url,
    '--redis-url',
    redis.url,
    '--issuer',
    options.issuer,
    '--ca-file',
    options.caFile,
    '--turn',
    coturn.urls.join(','),
    '--turn-secret-file',
    secretFile,
    '--trusted-proxies',
    '127.0.0.1',
    // The node's log is how its URL is learnt (the listening line is at info): read, not shown.
    '--log-level',
    'info',
    ...(options.nodeArgs ?? []),
  ];
  // The first node migrates the store; the others start on it together.
  const first = await startNodeProcess(args, { nodeOptions: options.nodeOptions });
  const nodes = [first, ...(await Promise.all(Array.from({ length: (options.nodes ?? 3) - 1 }, () => startNodeProcess(args, { nodeOptions: options.nodeOptions }))))];
  const haproxy = await startHaproxy({ dir: options.dir, nodes: nodes.map((node) => new URL(node.url).host), maxconn: options.maxconn });
  return {
    url: haproxy.url,
    nodes,
    postgres,
    redis,
    coturn,
    haproxy,
    close: async () => {
      await haproxy.close();
      for (const node of nodes) node.child.kill('SIGTERM');
      await Promise.all(nodes.map((node) => node.exited));
      await coturn.close();
      await redis.close();
      await postgres.close();
      rmSync(postgresDir, { recursive: true, force: true });
    },
  };
}

function mkdirFor(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
