import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, ServerToConsole, type ConsoleToServer, type Unversioned } from '@roomlink/shared';
import { devTenants } from '../../../scripts/dev-idp/accounts';
import { startIdp, type RunningIdp } from '../../../scripts/dev-idp/idp';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { startServer, type RunningServer, type ServerConfig } from '../src/server';
import { TestAgent } from './agent-client';
import { testStoreConfig } from './postgres';

export interface Harness {
  idp: RunningIdp;
  server: RunningServer;
  /** The server's data directory: its keys, which the nodes of a cluster share. */
  dataDir: string;
  clock: { offsetMs: number };
  token(username: string): Promise<string>;
  api<T = unknown>(username: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** A room, an enrollment code, and a connected agent for it. */
  room(input?: Record<string, unknown>, as?: string): Promise<{ roomId: string; agent: TestAgent }>;
  consoleSocket(username: string): Promise<ConsoleSocket>;
  /** Another server on this one's store, sign-in provider and keys (its data directory): a second node (PostgreSQL only). */
  node(): Promise<RunningServer>;
  /** The store's own consistency check ('ok', or what it found): SQLite's integrity check, PostgreSQL's index checks (amcheck). */
  integrity(): Promise<string>;
  close(): Promise<void>;
}

export class ConsoleSocket {
  readonly messages: ServerToConsole[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = decodeMessage(ServerToConsole, String(data));
      if (parsed.ok) this.messages.push(parsed.value);
    });
  }
  send(message: Unversioned<ConsoleToServer>): void {
    this.ws.send(encodeMessage(message));
  }
  async next(match: (m: ServerToConsole) => boolean, timeoutMs = 5000): Promise<ServerToConsole> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const index = this.messages.findIndex(match);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no matching console message');
  }
}

export const ADMIN = 'admin@contoso.test';
export const TECH = 'tech@contoso.test';
export const VIEWER = 'viewer@contoso.test';
export const OUTSIDER = 'admin@fabrikam.test';

/** A real provider and a real server on loopback, with data in a fresh directory. */
export async function startHarness(overrides: Partial<ServerConfig> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-server-'));
  const idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  const clock = { offsetMs: 0 };
  const config: ServerConfig = {
    tenants: devTenants,
    dataDir: join(dir, 'server'),
    store: await testStoreConfig(overrides.dataDir ?? join(dir, 'server')),
    host: '127.0.0.1',
    port: 0,
    auth: { issuer: idp.issuer, audience: 'api://roomlink', acceptedTypes: ['at+jwt', 'JWT'], groupsClaim: 'groups', caPem: idp.caPem },
    heartbeatMs: 1000,
    setupTimeoutMs: 5000,
    graceMs: 300,
    enrollmentRate: { burst: 1000, perSecond: 1000 },
    sessionStartRate: { burst: 1000, perSecond: 1000 },
    logLevel: 'silent',
    // Only session ends and purges seal the chain here, so a test sees exactly those checkpoints.
    checkpointEveryMs: 3_600_000,
    now: () => new Date(Date.now() + clock.offsetMs),
    ...overrides,
  };
  const server = await startServer(config);
  const nodes: RunningServer[] = [];
  const tokens = new Map<string, Promise<string>>();
  const agents: TestAgent[] = [];
  const sockets: WebSocket[] = [];
  const token = (username: string) => {
    if (!tokens.has(username)) tokens.set(username, devSignIn(idp.issuer, idp.caPem, username).then((t) => t.accessToken));
    return tokens.get(username)!;
  };
  const api: Harness['api'] = async (username, method, path, body, headers = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...(username && { authorization: `Bearer ${await token(username)}` }), ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as never };
  };
  return {
    idp,
    server,
    dataDir: config.dataDir,
    clock,
    token,
    api,
    async room(input = {}, as = ADMIN) {
      const created = await api<{ id: string }>(as, 'POST', '/api/rooms', { name: `Room ${agents.length + 1}`, ...input });
      if (created.status !== 201) throw new Error(`room creation failed: ${JSON.stringify(created.body)}`);
      const code = await api<{ code: string }>(as, 'POST', `/api/rooms/${created.body.id}/enrollment-code`);
      const agent = new TestAgent(server.url);
      agents.push(agent);
      const enrolled = await agent.enroll(code.body.code);
      if (!enrolled.ok) throw new Error(`enrollment failed: ${await enrolled.text()}`);
      const welcome = await agent.connect();
      if (welcome.type !== 'agent.welcome') throw new Error(`agent refused: ${JSON.stringify(welcome)}`);
      return { roomId: created.body.id, agent };
    },
    async consoleSocket(username) {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/console`, { headers: { authorization: `Bearer ${await token(username)}` } });
      sockets.push(ws);
      const socket = new ConsoleSocket(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return socket;
    },
    async node() {
      if (config.store?.engine !== 'postgres') throw new Error('nodes share a PostgreSQL store: the harness runs on SQLite here');
      // The nodes of a cluster share their keys: agents pin one grant key, auditors check one checkpoint key.
      const node = await startServer(config);
      nodes.push(node);
      return node;
    },
    async integrity() {
      const { db, engine } = server.services.store;
      if (engine === 'sqlite') return (await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(db)).rows.map((r) => r.integrity_check).join('; ');
      await sql`CREATE EXTENSION IF NOT EXISTS amcheck`.execute(db);
      const indexes = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`.execute(db);
      for (const { name } of indexes.rows) await sql`SELECT bt_index_check(${name}::regclass, true)`.execute(db);
      return 'ok';
    },
    async close() {
      for (const ws of sockets) ws.close();
      await Promise.all(agents.map((a) => a.close()));
      await Promise.all(nodes.map((node) => node.close()));
      await server.close();
      await idp.close();
    },
  };
}

/** Remote access on, and a custom role: `level` for `group` on rooms of `scope`. */
export async function grantAccess(h: Harness, level: 'view' | 'modify', group: string, scope: { rooms?: string[]; locations?: string[]; tags?: string[] }): Promise<string> {
  await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
  const role = await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', {
    name: `${level} ${group}`,
    permissions: [level === 'modify' ? 'remoteAccess.modify' : 'remoteAccess.view'],
    assignments: [{ groups: [group], ...scope }],
  });
  if (role.status !== 201) throw new Error(`role creation failed: ${JSON.stringify(role.body)}`);
  return role.body.id;
}
