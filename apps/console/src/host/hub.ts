import WebSocket from 'ws';
import { decodeMessage, encodeMessage, reconnectDelay, ServerToConsole, type ConsoleToServer, type Unversioned } from '@roomlink/shared';
import type { ConnectionState } from '../api/console-api';

export interface HubOptions {
  serverUrl: string;
  accessToken(): Promise<string>;
  deviceName: string;
  onMessage(message: ServerToConsole): void;
  onState(state: ConnectionState): void;
  log(message: string, error?: unknown): void;
}

/**
 * The console's one socket to the server's console hub: session states and
 * signaling. Reconnects with capped, jittered backoff, taking a fresh token
 * each time (the server closes the socket when a token expires).
 */
export class HubConnection {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  state: ConnectionState = 'offline';

  constructor(private readonly options: HubOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState('connecting');
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'signed out');
    this.ws = null;
    this.setState('offline');
  }

  /** False when the hub is not connected: the caller reports that, nothing is queued. */
  send(message: Unversioned<ConsoleToServer>): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeMessage(message));
    return true;
  }

  private async connect(): Promise<void> {
    let token: string;
    try {
      token = await this.options.accessToken();
    } catch (error) {
      this.options.log('hub: no token', error);
      this.retry();
      return;
    }
    if (this.stopped) return;
    const url = new URL('/console', this.options.serverUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}`, 'x-roomlink-device': this.options.deviceName }, maxPayload: 64 * 1024 });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      this.setState('connected');
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = decodeMessage(ServerToConsole, data.toString());
      if (parsed.ok) this.options.onMessage(parsed.value);
      else this.options.log(`hub: dropped a message (${parsed.error.code})`);
    });
    ws.on('error', (error) => this.options.log('hub: socket error', error));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    });
  }

  private retry(): void {
    if (this.stopped) return;
    this.setState('offline');
    this.timer = setTimeout(() => void this.connect(), reconnectDelay(this.attempt++, 500, 15_000));
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState(state);
  }
}
