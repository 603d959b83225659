import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  AgentToServer,
  agentProofPayload,
  decodeMessage,
  encodeMessage,
  GRANT_AUDIENCE,
  GRANT_ISSUER,
  GRANT_TTL_SECONDS,
  type IceServer,
  type IceTransportPolicy,
  type ServerToAgent,
  type SessionLevel,
  type Unversioned,
} from '@roomlink/shared';

export const ROOM = 'room-test-1';
/** What a session offer says about ICE: servers, and whether only relayed paths may be used. */
export interface Ice {
  iceServers: IceServer[];
  iceTransportPolicy: IceTransportPolicy;
}
export const loopbackIce: Ice = { iceServers: [], iceTransportPolicy: 'all' };
export const TENANT = 'tenant-test';
export const USER = 'u-tech';

export interface GrantFields {
  sid: string;
  tid: string;
  rid: string;
  sub: string;
  lvl: SessionLevel;
  ptr: boolean;
  jti: string;
  iat: number;
  exp: number;
}

/**
 * The server side of the agent protocol, for agent tests: real HTTP, real
 * WebSocket, real Ed25519. Unlike the real server it lets a test speak as an
 * attacker who controls the control plane: forged, expired, replayed and
 * other-room grants, garbage frames, and a server that vanishes.
 */
export class ControlPlane {
  readonly grantKeys = generateKeyPairSync('ed25519');
  readonly received: AgentToServer[] = [];
  url = '';
  heartbeatMs = 500;
  /** What the welcome says the server holds for the room. */
  heldSession: string | null = null;
  /** Leaves the agent's pings unanswered, as a path that died without TCP noticing looks to the agent's heartbeat. */
  silent = false;
  /** Agents that proved their key, counted over the plane's life. */
  connections = 0;
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private agentKey: ReturnType<typeof createPublicKey> | null = null;
  private socket: WebSocket | null = null;
  private readonly usedCodes = new Set<string>();
  private waiters: { match: (m: AgentToServer) => boolean; resolve: (m: AgentToServer) => void }[] = [];
  onAgentMessage: (message: AgentToServer) => void = () => undefined;

  async listen(port = 0): Promise<void> {
    this.http = createServer((req, res) => {
      if (req.method !== 'POST' || req.url !== '/api/agent/enroll') return void res.writeHead(404).end();
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const request = JSON.parse(body) as { code: string; publicKey: string };
        // Any code shaped CODE-… works, once.
        if (!request.code.startsWith('CODE-') || this.usedCodes.has(request.code)) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'enrollment_code_invalid', message: 'The enrollment code is not valid.' } }));
          return;
        }
        this.usedCodes.add(request.code);
        this.agentKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: request.publicKey }, format: 'jwk' });
        const grantPublicKey = this.grantKeys.publicKey.export({ format: 'jwk' }).x!;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ roomId: ROOM, tenantId: TENANT, roomName: 'Test room', grantPublicKey }));
      });
    });
    this.wss = new WebSocketServer({ server: this.http, path: '/agent', autoPong: false });
    this.wss.on('connection', (ws) => this.accept(ws));
    await new Promise<void>((resolve) => this.http!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  private accept(ws: WebSocket): void {
    const nonce = randomBytes(32).toString('base64url');
    let proven = false;
    ws.on('ping', (data) => {
      if (!this.silent) ws.pong(data);
    });
    ws.on('message', (data) => {
      const parsed = decodeMessage(AgentToServer, data.toString());
      if (!parsed.ok) throw new Error(`agent sent an invalid frame: ${parsed.error.message}`);
      const message = parsed.value;
      if (!proven) {
        if (message.type === 'agent.hello') this.sendOn(ws, { type: 'agent.challenge', nonce });
        if (message.type === 'agent.proof') {
          proven = verify(null, Buffer.from(agentProofPayload(nonce, ROOM)), this.agentKey!, Buffer.from(message.signature, 'base64url'));
          if (!proven) return ws.close(4401, 'bad proof');
          this.socket = ws;
          this.connections += 1;
          this.sendOn(ws, { type: 'agent.welcome', roomId: ROOM as never, tenantId: TENANT as never, heartbeatMs: this.heartbeatMs, sessionId: this.heldSession as never });
        }
        return;
      }
      this.received.push(message);
      this.onAgentMessage(message);
      this.waiters = this.waiters.filter((w) => (w.match(message) ? (w.resolve(message), false) : true));
    });
    ws.on('close', () => {
      if (this.socket === ws) this.socket = null;
    });
  }

  private sendOn(ws: WebSocket, message: Unversioned<ServerToAgent>): void {
    ws.send(encodeMessage(message));
  }

  send(message: Unversioned<ServerToAgent>): void {
    if (!this.socket) throw new Error('no agent connected');
    this.sendOn(this.socket, message);
  }

  sendRaw(text: string): void {
    this.socket?.send(text);
  }

  /** The next message from the agent that matches, including one already received when `past` is set. */
  waitFor<T extends AgentToServer['type']>(type: T, match: (m: Extract<AgentToServer, { type: T }>) => boolean = () => true, timeoutMs = 15_000): Promise<Extract<AgentToServer, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
      this.waiters.push({
        match: (m) => m.type === type && match(m as Extract<AgentToServer, { type: T }>),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<AgentToServer, { type: T }>);
        },
      });
    });
  }

  async waitForAgent(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.socket) {
      if (Date.now() > until) throw new Error('the agent did not connect');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async waitForAgentGone(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.socket) {
      if (Date.now() > until) throw new Error('the agent did not disconnect');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  grantFields(overrides: Partial<GrantFields> = {}): GrantFields {
    const iat = Math.floor(Date.now() / 1000);
    return { sid: `s-${randomUUID()}`, tid: TENANT, rid: ROOM, sub: USER, lvl: 'modify', ptr: false, jti: randomUUID(), iat, exp: iat + GRANT_TTL_SECONDS, ...overrides };
  }

  signGrant(fields: GrantFields, key = this.grantKeys.privateKey): Promise<string> {
    return new SignJWT({ sid: fields.sid, tid: fields.tid, rid: fields.rid, lvl: fields.lvl, ptr: fields.ptr })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'roomlink-grant+jwt' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(fields.sub)
      .setJti(fields.jti)
      .setIssuedAt(fields.iat)
      .setExpirationTime(fields.exp)
      .sign(key);
  }

  /** Offers a session with a grant (valid unless the test passes another), loopback ICE only unless the test passes servers. */
  async offer(level: SessionLevel, grant?: { fields?: Partial<GrantFields>; token?: string }, ice: Ice = loopbackIce): Promise<{ sessionId: string; grant: string }> {
    const fields = this.grantFields({ lvl: level, ...grant?.fields });
    const token = grant?.token ?? (await this.signGrant(fields));
    this.send({ type: 'session.offer', sessionId: fields.sid as never, grant: token, level, ...ice });
    return { sessionId: fields.sid, grant: token };
  }

  /** The server vanishes: every socket cut, nothing listening. */
  async kill(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    this.http?.closeAllConnections();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.http = null;
    this.socket = null;
  }
}
