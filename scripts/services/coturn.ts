import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freeUdpPort } from './ports';

export interface Coturn {
  /** The TURN URLs sessions are given, UDP and TCP on the listening port. */
  urls: string[];
  port: number;
  close(): Promise<void>;
}

export interface CoturnOptions {
  /** Where coturn keeps its (unused) user database and pid file. */
  dir: string;
  /** The secret shared with the server (`use-auth-secret`). */
  secret: string;
  host?: string;
}

/** Relay ports each coturn gets, and where the windows they are drawn from start. */
const RELAY_PORTS = 40;
const RELAY_PORTS_FROM = 61_000;
const RELAY_WINDOWS = Math.floor((65_536 - RELAY_PORTS_FROM) / RELAY_PORTS);

/**
 * coturn from Debian (`turnserver`), with the TURN REST API's shared secret
 * and nothing else: no TLS, no CLI, no static users. It relays between
 * addresses on `host` only (loopback by default, so peers on 127.0.0.1 are
 * allowed): what tests and `npm run cluster` run on one machine.
 */
export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  const host = options.host ?? '127.0.0.1';
  const port = await freeUdpPort(host);
  // A relay port range of its own, above the ports the kernel hands out for sockets bound to port 0 (32768-60999 here): a WebRTC peer's
  // host candidate there could take a relay port, and ten ports leave coturn little room. Random, so that parallel runs rarely meet.
  const minPort = RELAY_PORTS_FROM + Math.floor(Math.random() * RELAY_WINDOWS) * RELAY_PORTS;
  const child = spawn(
    'turnserver',
    [
      '-n',
      `--listening-ip=${host}`,
      `--relay-ip=${host}`,
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + RELAY_PORTS - 1}`,
      '--use-auth-secret',
      `--static-auth-secret=${options.secret}`,
      '--realm=roomlink',
      '--fingerprint',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-software-attribute',
      ...(host.startsWith('127.') ? ['--allow-loopback-peers'] : []),
      `--userdb=${options.dir}/turndb`,
      `--pidfile=${options.dir}/turnserver.pid`,
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('coturn did not start within 10 s')), 10_000);
    child.once('error', (error) => reject(new Error(`coturn: ${error.message} (is the coturn package installed? scripts/system-deps.mjs installs it)`)));
    child.once('exit', (code) => reject(new Error(`coturn exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!/UDP listener opened on/i.test(line) && !/Total (General|UDP) servers/i.test(line)) return;
      clearTimeout(timer);
      resolve();
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    urls: [`turn:${host}:${port}?transport=udp`, `turn:${host}:${port}?transport=tcp`],
    port,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
