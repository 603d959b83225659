import type { WebSocket } from 'ws';
import { ConsoleToServer, ROOM_STATES_PER_MESSAGE, type RoomState, type ServerToConsole, type Unversioned } from '@roomlink/shared';
import type { Logger } from 'pino';
import type { Caller } from '../auth/tokens';
import type { Switchboard } from '../cluster/switchboard';
import { ApiFailure } from '../errors';
import type { SessionBroker } from '../sessions/broker';
import { decodeFrame, sendMessage } from './socket';

/**
 * Consoles keep one authenticated socket each for session events and
 * signaling. The token was checked before the upgrade; the socket closes
 * when the token expires.
 */
export class ConsoleHub {
  private readonly connections = new Map<string, Set<WebSocket>>();
  /** Who each socket belongs to, as their token said: what a broadcast asks before it sends. */
  private readonly callers = new Map<WebSocket, Caller>();
  broker!: SessionBroker;
  switchboard!: Switchboard;

  constructor(private readonly log: Logger) {}

  private key(tenantId: string, userId: string): string {
    return `${tenantId}\u0000${userId}`;
  }

  /** Whose consoles are connected here. */
  users(): { tenantId: string; userId: string }[] {
    return [...this.connections.keys()].map((key) => {
      const [tenantId, userId] = key.split('\u0000') as [string, string];
      return { tenantId, userId };
    });
  }

  online(tenantId: string, userId: string): boolean {
    return (this.connections.get(this.key(tenantId, userId))?.size ?? 0) > 0;
  }

  send(tenantId: string, userId: string, message: Unversioned<ServerToConsole>): void {
    for (const ws of this.connections.get(this.key(tenantId, userId)) ?? []) sendMessage<ServerToConsole>(ws, message);
  }

  /** Sends to every console of the tenant whose user `may` receive it. */
  broadcast(tenantId: string, message: Unversioned<ServerToConsole>, may: (caller: Caller) => boolean): void {
    for (const [ws, caller] of this.callers) if (caller.principal.tenantId === tenantId && may(caller)) sendMessage<ServerToConsole>(ws, message);
  }

  /** Sends each console the room states its user `may` hear of, in as few messages as fit. */
  pushRoomStates(states: readonly { tenantId: string; state: RoomState; may: (caller: Caller) => boolean }[]): void {
    for (const [ws, caller] of this.callers) {
      const heard = states.filter(({ tenantId, may }) => caller.principal.tenantId === tenantId && may(caller)).map(({ state }) => state);
      for (let i = 0; i < heard.length; i += ROOM_STATES_PER_MESSAGE) sendMessage<ServerToConsole>(ws, { type: 'room.states', states: heard.slice(i, i + ROOM_STATES_PER_MESSAGE) });
    }
  }

  accept(ws: WebSocket, caller: Caller): void {
    const { tenantId, userId } = caller.principal;
    const key = this.key(tenantId, userId);
    const set = this.connections.get(key) ?? new Set<WebSocket>();
    set.add(ws);
    this.connections.set(key, set);
    this.callers.set(ws, caller);
    const presenceFailed = (error: unknown) => this.log.error({ err: error }, 'console presence not passed on');
    if (set.size === 1) this.switchboard.consoleArrived(tenantId, userId).catch(presenceFailed);
    const expiry = setTimeout(() => ws.close(4401, 'token expired'), Math.max(0, caller.expiresAt - Date.now()));

    let handled: Promise<void> = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      const parsed = decodeFrame(ConsoleToServer, data, isBinary);
      if (!parsed.ok) {
        sendMessage<ServerToConsole>(ws, { type: 'error', code: parsed.error.code, message: parsed.error.message });
        return;
      }
      const message = parsed.value;
      // A failure handling one message answers that message; it never takes the process down.
      const failed = (error: unknown) => {
        if (!(error instanceof ApiFailure)) this.log.error({ err: error }, 'console message failed');
        const code = error instanceof ApiFailure ? error.code : 'internal';
        sendMessage<ServerToConsole>(ws, { type: 'error', code, message: code });
      };
      // One console's messages are handled in the order they came: signals are an exchange.
      handled = handled
        .then(async () => {
          if (message.type !== 'session.signal') return this.broker.endByUser(caller.principal, message.sessionId);
          if (!(await this.broker.onConsoleSignal(caller.principal, message.sessionId, message.data))) sendMessage<ServerToConsole>(ws, { type: 'error', code: 'session_not_found', message: 'No such session.' });
        })
        .catch(failed);
    });
    ws.on('close', () => {
      clearTimeout(expiry);
      set.delete(ws);
      this.callers.delete(ws);
      if (set.size === 0) {
        this.connections.delete(key);
        this.switchboard.consoleLeft(tenantId, userId).catch(presenceFailed);
      }
    });
    ws.on('error', (error) => this.log.debug({ err: error }, 'console socket error'));
  }

  close(): void {
    for (const set of this.connections.values()) for (const ws of set) ws.close(1001, 'server shutting down');
  }
}
