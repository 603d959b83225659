import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';
import { agentProofPayload, decodeMessage, encodeMessage, ServerToAgent, type AgentToServer, type Unversioned } from '@roomlink/shared';

/**
 * A minimal real agent for server tests and benchmarks: enrolls over HTTP,
 * connects, proves its key, and records what the server sends it. The
 * product agent lives in apps/room-agent.
 */
export class TestAgent {
  readonly received: ServerToAgent[] = [];
  ws!: WebSocket;
  roomId = '';
  grantPublicKey = '';
  private waiters: { match: (m: ServerToAgent) => boolean; resolve: (m: ServerToAgent) => void }[] = [];

  constructor(
    readonly serverUrl: string,
    readonly keys: { privateKey: KeyObject; publicKeyRaw: string } = TestAgent.newKeys(),
  ) {}

  static newKeys() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { privateKey, publicKeyRaw: publicKey.export({ format: 'jwk' }).x! };
  }

  async enroll(code: string): Promise<Response> {
    const response = await fetch(`${this.serverUrl}/api/agent/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, publicKey: this.keys.publicKeyRaw, platform: 'synthetic', agentVersion: 'test' }),
    });
    if (response.ok) {
      const body = (await response.clone().json()) as { roomId: string; grantPublicKey: string };
      this.roomId = body.roomId;
      this.grantPublicKey = body.grantPublicKey;
    }
    return response;
  }

  /** Connects and completes the handshake; resolves with the welcome or the error the server sent. */
  connect(roomId = this.roomId, signer: KeyObject = this.keys.privateKey): Promise<ServerToAgent> {
    this.ws = new WebSocket(`${this.serverUrl.replace(/^http/, 'ws')}/agent`);
    this.ws.on('message', (data) => {
      const parsed = decodeMessage(ServerToAgent, String(data));
      if (!parsed.ok) throw new Error(`server sent an invalid message: ${String(data)}`);
      const message = parsed.value;
      if (message.type === 'agent.challenge') {
        this.send({ type: 'agent.proof', signature: sign(null, Buffer.from(agentProofPayload(message.nonce, roomId)), signer).toString('base64url') });
        return;
      }
      this.received.push(message);
      this.waiters = this.waiters.filter((w) => !(w.match(message) && (w.resolve(message), true)));
    });
    this.ws.once('open', () => this.send({ type: 'agent.hello', roomId: roomId as never, agentVersion: 'test', platform: 'synthetic' }));
    return this.next((m) => m.type === 'agent.welcome' || m.type === 'error');
  }

  send(message: Unversioned<AgentToServer>): void {
    this.ws.send(encodeMessage(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  next<T extends ServerToAgent['type']>(match: T | ((m: ServerToAgent) => boolean), timeoutMs = 5000): Promise<Extract<ServerToAgent, { type: T }>> {
    const predicate = typeof match === 'string' ? (m: ServerToAgent) => m.type === match : match;
    const already = this.received.find(predicate);
    if (already) {
      this.received.splice(this.received.indexOf(already), 1);
      return Promise.resolve(already as never);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${String(match)} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: predicate,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m as never);
        },
      });
    });
  }

  close(): Promise<void> {
    if (!this.ws || this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
