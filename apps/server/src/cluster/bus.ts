import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SignalData, validate } from '@roomlink/shared';
import { z } from 'zod';

/**
 * What one node tells another. Messages for agents and consoles travel as
 * their encoded protocol text and are decoded by the receiving node against
 * the protocol's own schemas, as if they had come from a socket.
 */
const Id = z.string().min(1).max(200);
export const Envelope = z.discriminatedUnion('kind', [
  // Deliveries to the node that holds the socket.
  z.strictObject({ kind: z.literal('toAgent'), roomId: Id, message: z.string() }),
  z.strictObject({ kind: z.literal('toConsoles'), tenantId: Id, userId: Id, message: z.string() }),
  z.strictObject({ kind: z.literal('disconnectAgent'), roomId: Id }),
  // The room was recorded offline by a node its agent had left, after it had come here: record it online again.
  z.strictObject({ kind: z.literal('recordOnline'), roomId: Id }),
  // Events for the node that runs a session.
  z.strictObject({ kind: z.literal('agent'), sessionId: Id, roomId: Id, message: z.string() }),
  z.strictObject({ kind: z.literal('consoleSignal'), sessionId: Id, tenantId: Id, userId: Id, data: SignalData }),
  z.strictObject({ kind: z.literal('endByUser'), sessionId: Id, tenantId: Id, userId: Id }),
  // Told to every node: each acts on the sessions it runs.
  z.strictObject({ kind: z.literal('agentPresence'), roomId: Id, online: z.boolean() }),
  z.strictObject({ kind: z.literal('consolePresence'), tenantId: Id, userId: Id, online: z.boolean() }),
  z.strictObject({ kind: z.literal('callState'), roomId: Id, inCall: z.boolean() }),
  z.strictObject({ kind: z.literal('reevaluate'), tenantId: Id }),
  z.strictObject({ kind: z.literal('principal'), principal: z.strictObject({ tenantId: Id, userId: Id, groups: z.array(z.string().max(200)).max(2_000), directoryRoles: z.array(z.string().max(200)).max(200) }) }),
]);
export type Envelope = z.infer<typeof Envelope>;

export interface BusConfig {
  url: string;
  /** How long a node counts as alive after its last beat; a node killed outright is seen gone after this. */
  aliveMs: number;
  onError: (error: unknown) => void;
}

const key = {
  node: (nodeId: string) => `rl:node:${nodeId}`,
  agent: (roomId: string) => `rl:agent:${roomId}`,
  consoles: (tenantId: string, userId: string) => `rl:consoles:${tenantId}\u0000${userId}`,
};
const channel = {
  node: (nodeId: string) => `rl:to:${nodeId}`,
  all: 'rl:all',
  session: (sessionId: string) => `rl:session:${sessionId}`,
};

/** The node holding a room's agent, if that node is alive. */
const AGENT_NODE = `local n = redis.call('GET', KEYS[1]) if n and redis.call('EXISTS', ARGV[1] .. n) == 1 then return n end return false`;
/** Deletes a room's presence only if it still names this node (the agent may have moved on meanwhile). */
const RELEASE_AGENT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** The alive nodes holding a user's consoles. */
const CONSOLE_NODES = `local out = {} for _, n in ipairs(redis.call('HKEYS', KEYS[1])) do if redis.call('EXISTS', ARGV[1] .. n) == 1 then out[#out + 1] = n end end return out`;

/**
 * Presence and messages between server nodes, through Redis. Presence says
 * which node holds a room's agent and which nodes hold a user's consoles; it
 * is trusted only while the node named beats (`rl:node:<id>`, refreshed
 * three times per `aliveMs`), so a node killed outright stops counting
 * within `aliveMs` without anyone cleaning up after it. Redis keeps nothing
 * on disk: after it restarts, each node writes its presence again.
 */
export class RedisBus {
  readonly nodeId = `node-${randomBytes(6).toString('hex')}`;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly beat: NodeJS.Timeout;
  private handler: (envelope: Envelope) => void = () => undefined;
  /** Writes this node's presence again, after Redis lost it. */
  private restore: () => Promise<void> = async () => undefined;

  constructor(private readonly config: BusConfig) {
    // A command waits for Redis through a short outage, then fails rather than hang a request.
    const options = { maxRetriesPerRequest: 3, retryStrategy: (times: number) => Math.min(times * 100, 1_000), lazyConnect: true };
    this.redis = new Redis(config.url, options);
    this.subscriber = new Redis(config.url, options);
    for (const client of [this.redis, this.subscriber]) client.on('error', () => undefined);
    this.subscriber.on('message', (from: string, text: string) => {
      if (from !== channel.all) return this.received(text);
      // What every node hears starts with the sender's id: a node has already acted on its own news.
      const space = text.indexOf(' ');
      if (text.slice(0, space) !== this.nodeId) this.received(text.slice(space + 1));
    });
    this.redis.on('ready', () => void this.alive().then(() => this.restore()).catch(config.onError));
    this.beat = setInterval(() => void this.alive().catch(config.onError), Math.max(100, Math.floor(config.aliveMs / 3)));
    this.beat.unref();
  }

  async start(handler: (envelope: Envelope) => void, restore: () => Promise<void>): Promise<void> {
    this.handler = handler;
    await this.redis.connect();
    await this.subscriber.connect();
    await this.subscriber.subscribe(channel.node(this.nodeId), channel.all);
    await this.alive();
    this.restore = restore;
  }

  private async alive(): Promise<void> {
    await this.redis.set(key.node(this.nodeId), '1', 'PX', this.config.aliveMs);
  }

  private received(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.config.onError(new Error('a message between nodes was not JSON'));
    }
    const parsed = validate(Envelope, value);
    if (!parsed.ok) return this.config.onError(new Error(`a message between nodes was refused: ${(parsed.error.details ?? []).join('; ')}`));
    this.handler(parsed.value);
  }

  /** Which of these nodes are alive. */
  async aliveNodes(nodeIds: readonly string[]): Promise<Set<string>> {
    if (nodeIds.length === 0) return new Set();
    const beats = await this.redis.mget(nodeIds.map(key.node));
    return new Set(nodeIds.filter((_, i) => beats[i] !== null));
  }

  async holdAgents(roomIds: readonly string[]): Promise<void> {
    if (roomIds.length === 0) return;
    await this.redis.mset(Object.fromEntries(roomIds.map((roomId) => [key.agent(roomId), this.nodeId])));
  }

  /** False when the room's presence already names another node: its agent has moved on. */
  async releaseAgent(roomId: string): Promise<boolean> {
    const released = await this.redis.eval(RELEASE_AGENT, 1, key.agent(roomId), this.nodeId);
    return released === 1;
  }

  async agentNode(roomId: string): Promise<string | null> {
    return ((await this.redis.eval(AGENT_NODE, 1, key.agent(roomId), key.node(''))) as string | null) ?? null;
  }

  /**
   * `agentNode` for many rooms: one MGET, then whether each node named still
   * beats (a handful). Not atomic as `agentNode` is, which suits its one
   * caller, settling, that asks again before it writes. A script per room
   * took Redis 300-600 ms for 20,000 rooms, and another client's command
   * waited up to 98 ms behind it (measured with a scratch script on this
   * machine); this is two commands.
   */
  async agentNodes(roomIds: readonly string[]): Promise<(string | null)[]> {
    if (roomIds.length === 0) return [];
    const named = await this.redis.mget(roomIds.map((roomId) => key.agent(roomId)));
    const nodes = [...new Set(named.filter((node): node is string => node !== null))];
    const beating = await Promise.all(nodes.map((node) => this.redis.exists(key.node(node))));
    const alive = new Set(nodes.filter((_, i) => beating[i] === 1));
    return named.map((node) => (node !== null && alive.has(node) ? node : null));
  }

  async holdConsoles(users: readonly { tenantId: string; userId: string }[]): Promise<void> {
    if (users.length === 0) return;
    const batch = this.redis.pipeline();
    for (const { tenantId, userId } of users) batch.hset(key.consoles(tenantId, userId), this.nodeId, '1');
    await batch.exec();
  }

  async releaseConsoles(tenantId: string, userId: string): Promise<void> {
    await this.redis.hdel(key.consoles(tenantId, userId), this.nodeId);
  }

  async consoleNodes(tenantId: string, userId: string): Promise<string[]> {
    return (await this.redis.eval(CONSOLE_NODES, 1, key.consoles(tenantId, userId), key.node(''))) as string[];
  }

  /** Whether the node heard it (a node that died is not listening). */
  async toNode(nodeId: string, envelope: Envelope): Promise<boolean> {
    return (await this.redis.publish(channel.node(nodeId), JSON.stringify(envelope))) > 0;
  }

  async toAll(envelope: Envelope): Promise<void> {
    await this.redis.publish(channel.all, `${this.nodeId} ${JSON.stringify(envelope)}`);
  }

  /** Whether the node running the session heard it. */
  async toSession(sessionId: string, envelope: Envelope): Promise<boolean> {
    return (await this.redis.publish(channel.session(sessionId), JSON.stringify(envelope))) > 0;
  }

  /** This node runs the session from now: its events come here. */
  async runs(sessionId: string): Promise<void> {
    await this.subscriber.subscribe(channel.session(sessionId));
  }

  async stopsRunning(sessionId: string): Promise<void> {
    await this.subscriber.unsubscribe(channel.session(sessionId));
  }

  async close(): Promise<void> {
    clearInterval(this.beat);
    await this.redis.del(key.node(this.nodeId)).catch(() => undefined);
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}
