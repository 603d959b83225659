import { randomBytes, verify } from 'node:crypto';
import type { WebSocket } from 'ws';
import { AgentToServer, agentProofPayload, heartbeatRules, type ServerToAgent, type Unversioned } from '@roomlink/shared';
import type { Logger } from 'pino';
import type { AuditFolder } from '../audit/fold';
import type { Switchboard } from '../cluster/switchboard';
import { ed25519FromRaw } from '../keys';
import type { RoomMonitor } from '../monitoring/room-monitor';
import type { SessionBroker } from '../sessions/broker';
import type { Directory, RoomRecord } from '../store/directory';
import type { HandshakeSlots } from './handshake-slots';
import { decodeFrame, sendMessage } from './socket';

export interface AgentHubConfig {
  heartbeatMs: number;
  /** Time allowed from taking a handshake slot to a valid proof. */
  handshakeMs: number;
  /** Time a connection may wait in line for a handshake slot. */
  waitMs: number;
}

interface AgentConnection {
  ws: WebSocket;
  room: RoomRecord;
  /** When the agent last said anything; null until it is welcomed (it has nothing to say before, and pings from its welcome on). */
  lastSeen: number | null;
  /** When the hub last answered the agent's ping. */
  answeredAt: number;
  invalid: number;
}

/**
 * Room agents connect out to this hub. A connection proves it holds the key
 * its room enrolled with (a signed nonce) before it can say anything else;
 * after that it reports health and call state and carries its sessions.
 */
export class AgentHub {
  private readonly connections = new Map<string, AgentConnection>();
  private readonly sweeper: NodeJS.Timeout;
  broker!: SessionBroker;
  switchboard!: Switchboard;

  constructor(
    private readonly directory: Directory,
    private readonly monitor: RoomMonitor,
    private readonly folder: AuditFolder,
    private readonly config: AgentHubConfig,
    private readonly slots: HandshakeSlots,
    private readonly log: Logger,
  ) {
    // One sweep for all connections: an agent silent for `agentSilentBeats` heartbeats is gone.
    this.sweeper = setInterval(() => this.sweep(), config.heartbeatMs);
    this.sweeper.unref();
  }

  get size(): number {
    return this.connections.size;
  }

  /** Connections proving their key now (not those waiting in line for a slot). */
  get handshaking(): number {
    return this.slots.proving;
  }

  online(roomId: string): boolean {
    return this.connections.has(roomId);
  }

  roomIds(): string[] {
    return [...this.connections.keys()];
  }

  lastSeen(roomId: string): number | null {
    return this.connections.get(roomId)?.lastSeen ?? null;
  }

  send(roomId: string, message: Unversioned<ServerToAgent>): boolean {
    const connection = this.connections.get(roomId);
    return connection ? sendMessage<ServerToAgent>(connection.ws, message) : false;
  }

  /** Closes the connection of a room, e.g. after its agent was re-enrolled. */
  disconnect(roomId: string): void {
    this.connections.get(roomId)?.ws.close(4000, 'replaced');
  }

  private sweep(): void {
    const deadline = Date.now() - heartbeatRules.agentSilentBeats * this.config.heartbeatMs;
    // A proven agent still waiting for its welcome is waiting on this server (a node taking over a lost node's rooms may be seconds behind), not silent.
    for (const connection of this.connections.values()) if (connection.lastSeen !== null && connection.lastSeen < deadline) connection.ws.terminate();
  }

  accept(ws: WebSocket, address: string): void {
    const nonce = randomBytes(32).toString('base64url');
    let room: RoomRecord | undefined;
    let connection: AgentConnection | undefined;
    const slot = this.slots.take();
    const proven = slot.release;
    // In line, then proving: each with its own time allowed; the agent's hello waits in line with it.
    let deadline = setTimeout(() => ws.close(1013, 'busy: try again later'), this.config.waitMs);
    let inLine = true;
    void slot.ready.then(() => {
      inLine = false;
      clearTimeout(deadline);
      if (ws.readyState !== ws.OPEN) return;
      deadline = setTimeout(() => ws.close(4408, 'handshake timeout'), this.config.handshakeMs);
    });
    const refuse = (code: 'agent_unknown' | 'bad_request' | 'protocol_version', why: string) => {
      sendMessage<ServerToAgent>(ws, { type: 'error', code, message: why });
      ws.close(4401, code);
    };

    // One agent's messages are handled in the order they came, each after the one before has done its writes; the first once the connection has its handshake slot.
    let handled: Promise<void> = slot.ready;
    let heldInLine = 0;
    ws.on('message', (data, isBinary) => {
      // An agent in line has said hello and waits for its challenge: anything more would be held for nothing.
      if (inLine && ++heldInLine > 1) return refuse('bad_request', 'Say hello, then wait for the challenge.');
      handled = handled
        .then(() => handle(data, isBinary))
        .catch((error: unknown) => {
          // A failure handling one message is logged; the agent and the server carry on.
          this.log.error({ err: error, roomId: room?.id }, 'agent message failed');
        });
    });

    const handle = async (data: unknown, isBinary: boolean): Promise<void> => {
      const parsed = decodeFrame(AgentToServer, data, isBinary);
      if (!parsed.ok) {
        if (!connection) return refuse(parsed.error.code === 'protocol_version' ? 'protocol_version' : 'bad_request', parsed.error.message);
        connection.invalid += 1;
        sendMessage<ServerToAgent>(ws, { type: 'error', code: parsed.error.code, message: parsed.error.message });
        return;
      }
      const message = parsed.value;
      if (!connection) {
        if (!room && message.type === 'agent.hello') {
          room = await this.directory.roomById(message.roomId);
          if (!room?.agentPublicKey) return refuse('agent_unknown', 'This device is not enrolled.');
          sendMessage<ServerToAgent>(ws, { type: 'agent.challenge', nonce });
          return;
        }
        if (room && message.type === 'agent.proof') {
          const valid = verify(null, Buffer.from(agentProofPayload(nonce, room.id)), ed25519FromRaw(room.agentPublicKey!), Buffer.from(message.signature, 'base64url'));
          if (!valid) {
            // Anyone can fail a proof for a known room id, as often as they like: repeats per room fold into one record with a count.
            await this.folder.append(`proof\u0000${room.id}`, { tenantId: room.tenantId, type: 'agent.proofFailed', roomId: room.id, roomName: room.name, data: { address } });
            return refuse('agent_unknown', 'The device could not prove its identity.');
          }
          clearTimeout(deadline);
          proven();
          connection = { ws, room, lastSeen: null, answeredAt: 0, invalid: 0 };
          this.connections.get(room.id)?.ws.close(4000, 'replaced by a newer connection');
          this.connections.set(room.id, connection);
          // Presence first, then the record: a node the agent just left and still writing it offline finds it here and has it recorded online again.
          await this.switchboard.agentArrived(room.id);
          await this.monitor.observe(room.id, { online: true });
          const sessionId = await this.broker.activeInRoom(room.id);
          connection.lastSeen = Date.now();
          sendMessage<ServerToAgent>(ws, { type: 'agent.welcome', roomId: room.id as never, tenantId: room.tenantId as never, heartbeatMs: this.config.heartbeatMs, sessionId: sessionId as never });
          return;
        }
        return refuse('bad_request', 'Say hello, then prove possession of the device key.');
      }
      connection.lastSeen = Date.now();
      const roomId = connection.room.id;
      switch (message.type) {
        case 'agent.health':
          await this.monitor.observe(roomId, { signals: message.signals, displays: message.displays });
          return;
        case 'agent.callState':
          await this.monitor.observe(roomId, { inCall: message.inCall });
          await this.broker.onCallState(roomId, message.inCall);
          return;
        case 'agent.hello':
        case 'agent.proof':
          return;
        default:
          await this.broker.onAgentMessage(roomId, message);
      }
    };

    // The agent's ping is its heartbeat: a sign of life with nothing to parse. Every other one is answered (`heartbeatRules`).
    ws.on('ping', (data) => {
      if (!connection) return;
      const now = Date.now();
      connection.lastSeen = now;
      if (now - connection.answeredAt < heartbeatRules.serverAnswerBeats * this.config.heartbeatMs) return;
      connection.answeredAt = now;
      ws.pong(data);
    });

    ws.on('close', () => {
      clearTimeout(deadline);
      proven();
      if (connection && this.connections.get(connection.room.id) === connection) {
        const roomId = connection.room.id;
        this.connections.delete(roomId);
        this.switchboard.agentLeft(roomId).catch((error: unknown) => this.log.error({ err: error, roomId }, 'recording a room offline failed'));
      }
    });
    ws.on('error', (error) => this.log.debug({ err: error }, 'agent socket error'));
  }

  /** Records every agent as last seen now, then closes the sockets; their close events find nothing left to record. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const open = [...this.connections.values()];
    this.connections.clear();
    // In a few statements, not one per room: a node holding 10,000 agents stops in moments.
    await this.directory.recordLastSeen(open.map((connection) => connection.room.id));
    for (const connection of open) connection.ws.close(1001, 'server shutting down');
  }
}
