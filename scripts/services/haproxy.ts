import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeTcpPort, waitForPort } from './ports';

export interface Haproxy {
  /** Where clients connect: http://host:port. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface HaproxyOptions {
  /** Where its configuration goes. */
  dir: string;
  /** The server nodes, `host:port`. */
  nodes: string[];
  host?: string;
  /**
   * Connections at once. HAProxy needs two descriptors each and refuses to
   * start above the process's descriptor limit (`ulimit -n`; 20,000 here,
   * hence the default): tens of thousands of agents need that limit raised.
   */
  maxconn?: number;
}

/**
 * HAProxy from Debian in front of server nodes: HTTP and WebSocket on one
 * port, no sticky sessions (any node serves any request), each node checked
 * on `/healthz` every second and taken out after two failures, and the
 * client's address passed on in `X-Forwarded-For` (start the nodes with
 * `--trusted-proxies` naming this balancer).
 */
export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const host = options.host ?? '127.0.0.1';
  const port = await freeTcpPort(host);
  const config = join(options.dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      `  maxconn ${options.maxconn ?? 9000}`,
      'defaults',
      '  mode http',
      '  option forwardfor',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      // A WebSocket lives for hours: agents and consoles keep theirs open and send a heartbeat well inside this.
      '  timeout tunnel 1h',
      'frontend roomlink',
      `  bind ${host}:${port}`,
      '  default_backend nodes',
      'backend nodes',
      '  balance leastconn',
      '  option httpchk GET /healthz',
      '  http-check expect status 200',
      ...options.nodes.map((node, i) => `  server node${i + 1} ${node} check inter 1s fall 2 rise 1`),
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`haproxy: ${error.message} (is the haproxy package installed? scripts/system-deps.mjs installs it)`)));
    child.once('exit', (code) => reject(new Error(`haproxy exited with ${code}: ${stderr.trim()}`)));
  });
  await Promise.race([waitForPort(port, host), failed]);
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
