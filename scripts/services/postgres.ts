import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { freeTcpPort } from './ports';

export interface Postgres {
  /** `postgres://roomlink@127.0.0.1:<port>/roomlink`: trust authentication on loopback, for tests and `npm run cluster`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Where the cluster's data and socket live; created if missing. As root, its parents must let the `postgres` user through (a fresh directory under /tmp does). */
  dir: string;
  /** Off for tests (a crash of the machine may lose the last commits; nothing else changes). */
  durable?: boolean;
}

/** Debian keeps each major version's programs in its own directory: the newest installed. */
function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql', { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name))
    .map((entry) => Number(entry.name))
    .sort((a, b) => b - a);
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (scripts/system-deps.mjs installs it)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

/**
 * A throwaway PostgreSQL from Debian's packages: initdb into `dir`, one
 * server on a free loopback port, one database `roomlink` owned by the user
 * `roomlink`. PostgreSQL will not run as root, so as root its programs run
 * as the `postgres` user the package created, and `dir` is given to it.
 */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const bin = binDir();
  const data = join(options.dir, 'data');
  mkdirSync(options.dir, { recursive: true });
  // Node runs the programs as that user itself (spawn's uid and gid), so signals reach PostgreSQL, not a wrapper.
  const owner = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : {};
  if (owner.uid !== undefined) chownSync(options.dir, owner.uid, owner.gid!);
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'roomlink', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions'], { stdio: 'ignore', ...owner });
  const port = await freeTcpPort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${options.dir}`,
    '-c',
    'max_connections=200',
    ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ];
  const child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...owner });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('PostgreSQL did not start within 20 s')), 20_000);
    child.once('error', (error) => reject(new Error(`PostgreSQL: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited with ${code} before accepting connections`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (!line.includes('database system is ready to accept connections')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'roomlink', 'roomlink'], { stdio: 'ignore', ...owner });
  return {
    url: `postgres://roomlink@127.0.0.1:${port}/roomlink`,
    port,
    close: async () => {
      // Fast shutdown: open connections are rolled back and closed.
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** A new, empty database `name` on the server at `url` (any database's URL on it); its URL. */
export async function createDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const created = new URL(url);
  created.pathname = `/${name}`;
  return created.href;
}
