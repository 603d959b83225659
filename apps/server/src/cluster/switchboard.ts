import { AgentToServer, decodeMessage, encodeMessage, ServerToAgent, ServerToConsole, type Unversioned } from '@roomlink/shared';
import type { Logger } from 'pino';
import type { AgentHub } from '../hub/agents';
import type { ConsoleHub } from '../hub/consoles';
import type { RoomMonitor } from '../monitoring/room-monitor';
import type { Links, NodeEvent, SessionEvent, SessionBroker } from '../sessions/broker';
import type { Envelope, RedisBus } from './bus';

/**
 * How the broker reaches agents, consoles and the other nodes. One node
 * alone (no bus) has every socket itself; in a cluster a socket may be on
 * any node, found through the bus's presence, and a session's events go to
 * the node that runs it.
 */
export class Switchboard implements Links {
  broker!: SessionBroker;

  constructor(
    private readonly agents: AgentHub,
    private readonly consoles: ConsoleHub,
    private readonly monitor: RoomMonitor,
    private readonly bus: RedisBus | null,
    private readonly log: Logger,
    readonly nodeId: string = bus?.nodeId ?? 'solo',
  ) {}

  get clustered(): boolean {
    return this.bus !== null;
  }

  async start(): Promise<void> {
    await this.bus?.start(
      (envelope) => void this.received(envelope).catch((error: unknown) => this.log.error({ err: error, kind: envelope.kind }, 'a message from another node failed')),
      async () => {
        await this.bus!.holdAgents(this.agents.roomIds());
        await this.bus!.holdConsoles(this.consoles.users());
      },
    );
  }

  private async received(envelope: Envelope): Promise<void> {
    switch (envelope.kind) {
      case 'toAgent': {
        const parsed = decodeMessage(ServerToAgent, envelope.message);
        if (parsed.ok) this.agents.send(envelope.roomId, parsed.value);
        else this.refused(envelope, parsed.error.details);
        return;
      }
      case 'toConsoles': {
        const parsed = decodeMessage(ServerToConsole, envelope.message);
        if (parsed.ok) this.consoles.send(envelope.tenantId, envelope.userId, parsed.value);
        else this.refused(envelope, parsed.error.details);
        return;
      }
      case 'disconnectAgent':
        this.agents.disconnect(envelope.roomId);
        return;
      case 'recordOnline':
        if (this.agents.online(envelope.roomId)) await this.monitor.recordOnlineAgain(envelope.roomId);
        return;
      case 'agentPresence':
        // The agent came back through another node while this one still holds its old socket (a link that died silently).
        if (envelope.online && this.agents.online(envelope.roomId) && (await this.bus!.agentNode(envelope.roomId)) !== this.nodeId) this.agents.disconnect(envelope.roomId);
        return this.broker.onEvent(envelope);
      case 'agent': {
        const parsed = decodeMessage(AgentToServer, envelope.message);
        if (parsed.ok) await this.broker.onAgentMessage(envelope.roomId, parsed.value, true);
        else this.refused(envelope, parsed.error.details);
        return;
      }
      default:
        return this.broker.onEvent(envelope);
    }
  }

  /** A message another node passed on that fails the protocol's schema: dropped, as from a socket, and logged. */
  private refused(envelope: Envelope, details: string[] | undefined): void {
    this.log.error({ kind: envelope.kind, details }, 'a message from another node was refused');
  }

  // Presence, as the hubs report it.

  async agentArrived(roomId: string): Promise<void> {
    await this.bus?.holdAgents([roomId]);
    await this.broker.onAgentPresence(roomId, true);
  }

  /**
   * The agent's connection here closed. Nothing changes if it has already
   * come back through another node; otherwise the room is recorded offline,
   * and if the agent came back elsewhere while that was written, that node
   * records it online again after it.
   */
  async agentLeft(roomId: string): Promise<void> {
    // A newer connection of the room's agent, here: the presence is its now.
    if (this.agents.online(roomId)) return;
    if (this.bus && !(await this.bus.releaseAgent(roomId))) return;
    await this.broker.onAgentPresence(roomId, false);
    await this.monitor.observe(roomId, { online: false });
    const node = await this.bus?.agentNode(roomId);
    if (node && node !== this.nodeId) await this.bus!.toNode(node, { kind: 'recordOnline', roomId });
  }

  async consoleArrived(tenantId: string, userId: string): Promise<void> {
    await this.bus?.holdConsoles([{ tenantId, userId }]);
    await this.broker.onConsolePresence(tenantId, userId, true);
  }

  async consoleLeft(tenantId: string, userId: string): Promise<void> {
    await this.bus?.releaseConsoles(tenantId, userId);
    await this.broker.onConsolePresence(tenantId, userId, false);
  }

  // Links.

  async agentOnline(roomId: string): Promise<boolean> {
    return this.agents.online(roomId) || (this.bus !== null && (await this.bus.agentNode(roomId)) !== null);
  }

  async sendToAgent(roomId: string, message: Unversioned<ServerToAgent>): Promise<boolean> {
    if (this.agents.online(roomId)) return this.agents.send(roomId, message);
    const node = await this.bus?.agentNode(roomId);
    return node ? this.bus!.toNode(node, { kind: 'toAgent', roomId, message: encodeMessage(message) }) : false;
  }

  /** Closes the room's agent connection, on whichever node holds it (its device was re-enrolled or revoked). */
  async disconnectAgent(roomId: string): Promise<void> {
    if (this.agents.online(roomId)) return this.agents.disconnect(roomId);
    const node = await this.bus?.agentNode(roomId);
    if (node) await this.bus!.toNode(node, { kind: 'disconnectAgent', roomId });
  }

  /** Which of these rooms have their agent on another node (alive). */
  async heldElsewhere(roomIds: readonly string[]): Promise<Set<string>> {
    if (!this.bus) return new Set();
    const nodes = await this.bus.agentNodes(roomIds);
    return new Set(roomIds.filter((_, i) => nodes[i] !== null && nodes[i] !== this.nodeId));
  }

  async consoleOnline(tenantId: string, userId: string): Promise<boolean> {
    return this.consoles.online(tenantId, userId) || (this.bus !== null && (await this.bus.consoleNodes(tenantId, userId)).length > 0);
  }

  async sendToConsoles(tenantId: string, userId: string, message: Unversioned<ServerToConsole>): Promise<void> {
    this.consoles.send(tenantId, userId, message);
    if (!this.bus) return;
    const encoded = encodeMessage(message);
    for (const node of await this.bus.consoleNodes(tenantId, userId)) if (node !== this.nodeId) await this.bus.toNode(node, { kind: 'toConsoles', tenantId, userId, message: encoded });
  }

  async toRunner(sessionId: string, event: SessionEvent): Promise<boolean> {
    if (!this.bus) return false;
    return this.bus.toSession(sessionId, event.kind === 'agent' ? { kind: 'agent', sessionId, roomId: event.roomId, message: encodeMessage(event.message) } : event);
  }

  async toOthers(event: NodeEvent): Promise<void> {
    await this.bus?.toAll(event);
  }

  async runs(sessionId: string): Promise<void> {
    await this.bus?.runs(sessionId);
  }

  async stopsRunning(sessionId: string): Promise<void> {
    await this.bus?.stopsRunning(sessionId);
  }

  async aliveNodes(nodeIds: readonly string[]): Promise<Set<string>> {
    if (!this.bus) return new Set(nodeIds.filter((id) => id === this.nodeId));
    return this.bus.aliveNodes(nodeIds);
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
