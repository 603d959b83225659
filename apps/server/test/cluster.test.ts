import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerToConsole } from '@roomlink/shared';
import { startHaproxy } from '../../../scripts/services/haproxy';
import { startRedis, type Redis } from '../../../scripts/services/redis';
import type { RunningServer } from '../src/server';
import { TestAgent } from './agent-client';
import { ADMIN, ConsoleSocket, grantAccess, startHarness, TECH, VIEWER, type Harness } from './harness';
import { testPostgresUrl } from './postgres';
import { startServerProcess } from './server-process';

/**
 * Nodes on one PostgreSQL and one Redis (both real, started here): a
 * session whose console and agent are on different nodes (straight to
 * each, and through HAProxy in front of both), two consoles on
 * two nodes racing for one room, a node killed outright mid-session, and
 * Redis going away and coming back.
 */

let h: Harness;
let other: RunningServer;
let redis: Redis;
let databaseUrl: string;
const redisDir = mkdtempSync(join(tmpdir(), 'roomlink-redis-'));
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ dir: redisDir });
  databaseUrl = await testPostgresUrl();
  h = await startHarness({ store: { engine: 'postgres', url: databaseUrl }, redisUrl: redis.url, graceMs: 2_000 });
  other = await h.node();
  await grantAccess(h, 'modify', 'room-technicians', { tags: ['cluster'] });
  await grantAccess(h, 'view', 'room-observers', { tags: ['cluster'] });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await h?.close();
  await redis?.close();
});

const startOn = async (url: string, user: string, roomId: string) => {
  const response = await fetch(`${url}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${await h.token(user)}`, 'content-type': 'application/json' }, body: JSON.stringify({ roomId }) });
  return { status: response.status, body: (await response.json()) as { sessionId: string; error?: { code: string } } };
};

async function consoleOn(url: string, user: string): Promise<ConsoleSocket> {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${url.replace('http', 'ws')}/console`, { headers: { authorization: `Bearer ${await h.token(user)}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return new ConsoleSocket(ws);
}

/** A room enrolled through the first node whose agent connects to `url`. */
async function roomOn(url: string, name: string): Promise<{ roomId: string; agent: TestAgent }> {
  const { roomId, agent } = await h.room({ name, tags: ['cluster'] });
  await agent.close();
  const moved = new TestAgent(url, agent.keys);
  moved.roomId = roomId;
  expect(await moved.connect()).toMatchObject({ type: 'agent.welcome' });
  // Its heartbeat, as a room's agent pings: a silent agent is dropped after three beats.
  setInterval(() => moved.ws.readyState === moved.ws.OPEN && moved.ws.ping(), 500).unref();
  return { roomId, agent: moved };
}

const stateOf = (sessionId: string, state: string) => (m: ServerToConsole) => m.type === 'session.state' && m.sessionId === sessionId && m.state === state;

/** The room takes the session offered to it and reports it up, and the console sees it active. */
async function goLive(agent: TestAgent, seen: ConsoleSocket, sessionId: string): Promise<void> {
  await agent.next('session.offer');
  agent.send({ type: 'session.accept', sessionId: sessionId as never });
  agent.send({ type: 'session.active', sessionId: sessionId as never });
  await seen.next(stateOf(sessionId, 'active'));
}
const signalOf = (sessionId: string) => (m: ServerToConsole) => m.type === 'session.signal' && m.sessionId === sessionId;
const auditOf = async (type: string, sessionId: string) =>
  (await h.api<{ records: { sessionId: string; data: Record<string, unknown> }[] }>(ADMIN, 'GET', `/api/audit?type=${type}&limit=50`)).body.records.filter((r) => r.sessionId === sessionId);

describe('a session across nodes', () => {
  it('runs with the console on one node and the agent on another: offer, signals both ways, states, the end with its counts', async () => {
    const { roomId, agent } = await roomOn(other.url, 'Across');
    const tech = await consoleOn(h.server.url, TECH);
    const started = await startOn(h.server.url, TECH, roomId);
    expect(started.status).toBe(201);
    const { sessionId } = started.body;
    expect(await agent.next('session.offer')).toMatchObject({ sessionId, level: 'modify' });
    agent.send({ type: 'session.accept', sessionId: sessionId as never });
    agent.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'offer', sdp: 'v=0 from the room' } });
    expect(await tech.next(signalOf(sessionId))).toMatchObject({ data: { type: 'offer', sdp: 'v=0 from the room' } });
    tech.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'answer', sdp: 'v=0 from the technician' } });
    expect(await agent.next('session.signal')).toMatchObject({ sessionId, data: { type: 'answer', sdp: 'v=0 from the technician' } });
    agent.send({ type: 'session.active', sessionId: sessionId as never });
    await tech.next(stateOf(sessionId, 'active'));

    tech.send({ type: 'session.end', sessionId: sessionId as never });
    expect(await agent.next('session.end')).toMatchObject({ sessionId, reason: 'user_ended' });
    agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended', input: { accepted: 7, dropped: 0 }, restarting: false });
    expect(await agent.next('session.ack')).toMatchObject({ sessionId });
    await tech.next(stateOf(sessionId, 'ended'));
    expect((await auditOf('session.ended', sessionId)).map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'user_ended', input: { accepted: 7, dropped: 0 } })]);
    tech.ws.close();
    await agent.close();
  });

  it('runs through HAProxy in front of both nodes, with the console and the agent on the nodes the balancer chose: different ones', async () => {
    const proxy = await startHaproxy({ dir: mkdtempSync(join(tmpdir(), 'roomlink-haproxy-')), nodes: [h.server, other].map((node) => new URL(node.url).host) });
    try {
      const nodes = [h.server, other];
      const agentsOn = () => Promise.all(nodes.map(async (node) => ((await (await fetch(`${node.url}/healthz`)).json()) as { agents: number }).agents));
      const consolesBefore = nodes.map((node) => node.consoles.users().length);
      const agentsBefore = await agentsOn();
      // The balancer sends each new connection to the node with the fewest of its connections.
      const tech = await consoleOn(proxy.url, TECH);
      const { roomId, agent } = await roomOn(proxy.url, 'Balanced');
      const consoleNode = nodes.findIndex((node, i) => node.consoles.users().length > consolesBefore[i]!);
      const agentNode = (await agentsOn()).findIndex((n, i) => n > agentsBefore[i]!);
      expect(consoleNode).toBeGreaterThanOrEqual(0);
      expect(agentNode).toBe(1 - consoleNode);

      const started = await startOn(proxy.url, TECH, roomId);
      expect(started.status).toBe(201);
      const { sessionId } = started.body;
      await goLive(agent, tech, sessionId);
      agent.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'offer', sdp: 'v=0 through the balancer' } });
      expect(await tech.next(signalOf(sessionId))).toMatchObject({ data: { sdp: 'v=0 through the balancer' } });
      tech.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'answer', sdp: 'v=0 back through it' } });
      expect(await agent.next('session.signal')).toMatchObject({ sessionId, data: { sdp: 'v=0 back through it' } });
      tech.send({ type: 'session.end', sessionId: sessionId as never });
      expect(await agent.next('session.end')).toMatchObject({ sessionId, reason: 'user_ended' });
      agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended', input: { accepted: 0, dropped: 0 }, restarting: false });
      await tech.next(stateOf(sessionId, 'ended'));
      expect(await auditOf('session.ended', sessionId)).toHaveLength(1);
      tech.ws.close();
      await agent.close();
    } finally {
      await proxy.close();
    }
  });

  it('gives a room to one of two consoles racing for it from two nodes; the other gets room_busy', async () => {
    const { roomId, agent } = await roomOn(h.server.url, 'Raced');
    for (let round = 0; round < 5; round += 1) {
      const [first, second] = await Promise.all([startOn(h.server.url, TECH, roomId), startOn(other.url, VIEWER, roomId)]);
      const winners = [first, second].filter((r) => r.status === 201);
      expect(winners).toHaveLength(1);
      expect([first, second].find((r) => r.status !== 201)!.body.error?.code).toBe('room_busy');
      const sessionId = winners[0]!.body.sessionId;
      await agent.next((m) => m.type === 'session.offer' && m.sessionId === sessionId);
      // Ended by its own user through the node that did not start it.
      const user = first.status === 201 ? TECH : VIEWER;
      expect((await fetch(`${first.status === 201 ? other.url : h.server.url}/api/sessions/${sessionId}/end`, { method: 'POST', headers: { authorization: `Bearer ${await h.token(user)}` } })).status).toBe(200);
      await agent.next((m) => m.type === 'session.end' && m.sessionId === sessionId);
      agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended', input: { accepted: 0, dropped: 0 }, restarting: false });
      await agent.next((m) => m.type === 'session.ack' && m.sessionId === sessionId);
    }
    await agent.close();
  });
});

describe('rule 14 across nodes', () => {
  it('ends a session run by one node when its access is taken away through another', async () => {
    const { roomId, agent } = await roomOn(h.server.url, 'Revoked');
    const viewer = await consoleOn(h.server.url, VIEWER);
    // Started, and so run, by the other node.
    const started = await startOn(other.url, VIEWER, roomId);
    expect(started.status).toBe(201);
    const { sessionId } = started.body;
    await goLive(agent, viewer, sessionId);
    // Through the first node: the room leaves the tag the viewer's access came with.
    expect((await h.api(ADMIN, 'PATCH', `/api/rooms/${roomId}`, { tags: [] })).status).toBe(200);
    expect(await agent.next('session.end')).toMatchObject({ sessionId, reason: 'access_revoked' });
    agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'access_revoked', input: { accepted: 0, dropped: 0 }, restarting: false });
    await viewer.next(stateOf(sessionId, 'ended'));
    viewer.ws.close();
    await agent.close();
  });
});

describe('messages between nodes', () => {
  it('are validated on arrival: junk, a wrong shape and a malformed protocol message inside a good envelope are dropped, and the node carries on', async () => {
    const { Redis: Client } = await import('ioredis');
    const client = new Client(redis.url);
    const to = `rl:to:${h.server.services.links.nodeId}`;
    const { roomId, agent } = await roomOn(h.server.url, 'Guarded');
    await client.publish(to, 'not json');
    await client.publish(to, JSON.stringify({ kind: 'toAgent', roomId }));
    await client.publish(to, JSON.stringify({ kind: 'toAgent', roomId, message: JSON.stringify({ v: 1, type: 'device.action', action: 'format-disk' }) }));
    await client.publish('rl:all', 'other-node {"kind":"reevaluate"}');
    // A well-formed one still goes through, first and alone: nothing before it reached the room.
    await client.publish(to, JSON.stringify({ kind: 'toAgent', roomId, message: JSON.stringify({ v: 1, type: 'device.action', action: 'restart' }) }));
    expect(await agent.next('device.action')).toMatchObject({ action: 'restart' });
    expect(agent.received.filter((m) => m.type === 'device.action')).toEqual([]);
    client.disconnect();
    await agent.close();
  });
});

describe('a node killed outright mid-session', () => {
  it('has its session adopted by another node: the room is not told to end, the signals go on, the end is recorded once and the chain verifies', async () => {
    const { roomId, agent } = await roomOn(h.server.url, 'Orphaned');
    const tech = await consoleOn(h.server.url, TECH);
    // A third node, a process of its own on the same store, Redis and keys, starts the session and so runs it.
    const node = await startServerProcess(h.dataDir, h.idp.issuer, h.idp.caFile, ['--database-url', databaseUrl, '--redis-url', redis.url]);
    children.push(node.child);
    const started = await startOn(node.url, TECH, roomId);
    expect(started.status).toBe(201);
    const { sessionId } = started.body;
    await goLive(agent, tech, sessionId);

    // A room whose agent is on the node that dies, and does not come back through another.
    const stranded = await roomOn(node.url, 'Stranded');
    const online = async (id: string) => (await h.api<{ id: string; online: boolean }[]>(ADMIN, 'GET', '/api/rooms')).body.find((room) => room.id === id)?.online;
    await expect.poll(() => online(stranded.roomId)).toBe(true);

    node.child.kill('SIGKILL');
    await expect.poll(async () => (await auditOf('session.adopted', sessionId)).length, { timeout: 10_000 }).toBe(1);
    // Rooms on live nodes stay online; the stranded one goes offline once the dead node's beat has lapsed.
    await expect.poll(() => online(stranded.roomId), { timeout: 15_000 }).toBe(false);
    expect(await online(roomId)).toBe(true);
    agent.send({ type: 'session.signal', sessionId: sessionId as never, data: { type: 'renegotiate', renegotiate: true } });
    expect(await tech.next(signalOf(sessionId))).toMatchObject({ data: { type: 'renegotiate' } });
    expect(agent.received.filter((m) => m.type === 'session.end')).toEqual([]);

    tech.send({ type: 'session.end', sessionId: sessionId as never });
    await agent.next('session.end');
    agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'user_ended', input: { accepted: 3, dropped: 0 }, restarting: false });
    await tech.next(stateOf(sessionId, 'ended'));
    expect((await auditOf('session.ended', sessionId)).map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'user_ended', input: { accepted: 3, dropped: 0 } })]);
    expect((await h.api<{ ok: boolean }>(ADMIN, 'GET', '/api/audit/verify')).body).toMatchObject({ ok: true });
    tech.ws.close();
    await agent.close();
    await stranded.agent.close();
  }, 60_000);
});

describe('Redis going away and coming back', () => {
  it('loses nothing that matters: the nodes write their presence again and the next session across nodes runs', async () => {
    const { roomId, agent } = await roomOn(other.url, 'Weathered');
    const tech = await consoleOn(h.server.url, TECH);
    await redis.close();
    redis = await startRedis({ dir: redisDir, port: redis.port });
    // Presence is back once each node has written it again (Redis kept nothing).
    let started = { status: 0, body: { sessionId: '' } };
    await expect.poll(async () => (started = await startOn(h.server.url, TECH, roomId)).status, { timeout: 10_000, interval: 300 }).toBe(201);
    const { sessionId } = started.body;
    await goLive(agent, tech, sessionId);
    tech.ws.close();
    await agent.close();
  }, 30_000);
});
