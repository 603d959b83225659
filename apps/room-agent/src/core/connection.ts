import { sign, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';
import {
  agentProofPayload,
  decodeMessage,
  encodeMessage,
  heartbeatRules,
  reconnectDelay,
  ServerToAgent,
  type AgentToServer,
  type Platform,
  type Unversioned,
} from '@roomlink/shared';
import type { Logger } from './log';

export type Welcome = Extract<ServerToAgent, { type: 'agent.welcome' }>;
/** What the rest of the agent sees from the server once the handshake is done. */
export type ServerMessage = Exclude<ServerToAgent, { type: 'agent.challenge' | 'agent.welcome' }>;

export interface ConnectionOptions {
  serverUrl: string;
  roomId: string;
  deviceKey: KeyObject;
  platform: Platform;
  agentVersion: string;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  log: Logger;
}

export interface ConnectionEvents {
  welcome(welcome: Welcome): void;
  message(message: ServerMessage): void;
  /** The server is gone; reconnecting has started. */
  down(): void;
}

/**
 * The agent's one outbound WebSocket. It proves the device key on every
 * connection, beats while connected, treats a silent server as gone (no
 * pong or message for `serverSilentBeats`), and reconnects with capped, jittered backoff. Every frame
 * from the server is schema-checked; garbage is counted and dropped.
 */
export class ServerConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private welcomed = false;
  private retry: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  /** When anything last came from the server: a pong or a message. */
  private lastHeard = 0;
  /** Frames from the server that failed validation. */
  invalidFrames = 0;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {}

  get online(): boolean {
    return this.welcomed;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  send(message: Unversioned<AgentToServer>): boolean {
    if (!this.welcomed || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeMessage(message));
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.beat);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'agent stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000).unref();
    });
  }

  private connect(): void {
    const url = new URL('/agent', this.options.serverUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { maxPayload: 64 * 1024, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      ws.send(encodeMessage({ type: 'agent.hello', roomId: this.options.roomId, agentVersion: this.options.agentVersion, platform: this.options.platform }));
    });
    ws.on('message', (data, isBinary) => {
      this.lastHeard = Date.now();
      this.receive(ws, isBinary ? '' : data.toString());
    });
    ws.on('pong', () => {
      this.lastHeard = Date.now();
    });
    ws.on('close', (code, reason) => this.closed(ws, code, reason.toString()));
    ws.on('error', (error) => this.options.log.debug({ err: error.message }, 'server connection error'));
  }

  private receive(ws: WebSocket, raw: string): void {
    const parsed = decodeMessage(ServerToAgent, raw);
    if (!parsed.ok) {
      this.invalidFrames += 1;
      this.options.log.warn({ code: parsed.error.code, details: parsed.error.details }, 'dropped an invalid frame from the server');
      return;
    }
    const message = parsed.value;
    if (message.type === 'agent.challenge') {
      const proof = sign(null, Buffer.from(agentProofPayload(message.nonce, this.options.roomId)), this.options.deviceKey).toString('base64url');
      ws.send(encodeMessage({ type: 'agent.proof', signature: proof }));
      return;
    }
    if (message.type === 'agent.welcome') {
      if (message.roomId !== this.options.roomId) {
        this.options.log.error({ roomId: message.roomId }, 'the server welcomed another room; disconnecting');
        ws.close(4400, 'wrong room');
        return;
      }
      this.welcomed = true;
      this.attempt = 0;
      this.startBeating(ws, message.heartbeatMs);
      this.events.welcome(message);
      return;
    }
    if (message.type === 'error') this.options.log.warn({ code: message.code, message: message.message }, 'the server reported an error');
    if (this.welcomed) this.events.message(message);
  }

  private startBeating(ws: WebSocket, heartbeatMs: number): void {
    clearInterval(this.beat);
    this.lastHeard = Date.now();
    this.beat = setInterval(() => {
      // A server silent this long means the path is dead even if TCP has not noticed (it answers every other ping).
      if (Date.now() - this.lastHeard > heartbeatRules.serverSilentBeats * heartbeatMs) {
        this.options.log.warn('the server stopped answering; reconnecting');
        ws.terminate();
        return;
      }
      // The ping is also the heartbeat the server counts: a control frame, no message to parse.
      ws.ping();
    }, heartbeatMs);
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    clearInterval(this.beat);
    const wasWelcomed = this.welcomed;
    this.welcomed = false;
    if (wasWelcomed) this.events.down();
    if (this.stopped) return;
    const delay = reconnectDelay(this.attempt++, this.options.reconnectBaseMs, this.options.reconnectCapMs);
    this.options.log.info({ code, reason, retryInMs: delay }, 'disconnected from the server');
    this.retry = setTimeout(() => this.connect(), delay);
  }
}
