import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthSignals } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server';
import { TestAgent } from './agent-client';
import { ADMIN, startHarness, VIEWER, type Harness } from './harness';
import { testPostgresUrl } from './postgres';

/** Two server nodes on one PostgreSQL: what one node changes, the other decides by at its next request. */

let h: Harness;
let other: RunningServer;
beforeAll(async () => {
  h = await startHarness({ store: { engine: 'postgres', url: await testPostgresUrl() }, incidentEveryMs: 50, alertEveryMs: 50 });
  other = await h.node();
});
afterAll(() => h.close());

const onOther = async <T>(username: string, path: string): Promise<T> =>
  (await (await fetch(`${other.url}${path}`, { headers: { authorization: `Bearer ${await h.token(username)}` } })).json()) as T;

describe('a change on one node', () => {
  it('reaches the other node’s next decision: a role created on one lets its holders read rooms through the other at once', async () => {
    const room = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Shared' });
    // The other node decides (and keeps the tenant's policy) before the change.
    expect(await onOther<{ id: string }[]>(VIEWER, '/api/rooms')).toEqual([]);
    const role = await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', { name: 'Readers', permissions: ['rooms.read'], assignments: [{ groups: ['room-observers'], rooms: [room.body.id] }] });
    expect((await onOther<{ id: string }[]>(VIEWER, '/api/rooms')).map((r) => r.id)).toEqual([room.body.id]);
    // And a role deleted on the other node stops reads through the first.
    expect((await fetch(`${other.url}/api/roles/${role.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await h.token(ADMIN)}` } })).status).toBe(200);
    expect((await h.api<{ id: string }[]>(VIEWER, 'GET', '/api/rooms')).body).toEqual([]);
  });
});

describe('alert deliveries with every node dispatching', () => {
  it('sends each delivery once: a node claims what it sends', async () => {
    const keys: string[] = [];
    const receiver = createServer((request, response) => {
      keys.push(String(request.headers['idempotency-key']));
      request.resume();
      request.on('end', () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    try {
      const hook = await h.api<{ webhook: { id: string } }>(ADMIN, 'POST', '/api/alerts/webhooks', { name: 'Both nodes', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
      await h.api(ADMIN, 'POST', '/api/alerts/rules', { name: 'All', webhookIds: [hook.body.webhook.id] });
      const { agent } = await h.room({ name: 'Failing' });
      const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };
      agent.send({ type: 'agent.health', signals: { ...ok, display: 'error' }, displays: [] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Past the rule's two minutes: the incident opens on the node that holds the room, and both nodes look for due deliveries.
      h.clock.offsetMs += 3 * 60_000;
      await expect.poll(() => keys.length, { timeout: 5_000 }).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(keys).toHaveLength(1);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe('a room whose agent moves to another node', () => {
  it('has the incident the first node opened resolved by the node that holds it now', async () => {
    const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };
    const { roomId, agent } = await h.room({ name: 'Wandering' });
    agent.send({ type: 'agent.health', signals: { ...ok, camera: 'error' }, displays: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    h.clock.offsetMs += 3 * 60_000;
    type Incident = { id: string; roomId: string; state: string; autoResolved: boolean };
    const ofRoom = async () => (await h.api<Incident[]>(ADMIN, 'GET', '/api/incidents')).body.filter((i) => i.roomId === roomId);
    await expect.poll(async () => (await ofRoom()).map((i) => i.state), { timeout: 5_000 }).toEqual(['detected']);
    // The first node goes away for this room; the agent comes back through the other, well.
    await agent.close();
    const moved = new TestAgent(other.url, agent.keys);
    moved.roomId = roomId;
    expect(await moved.connect()).toMatchObject({ type: 'agent.welcome' });
    moved.send({ type: 'agent.health', signals: ok, displays: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    h.clock.offsetMs += 3 * 60_000;
    await expect.poll(async () => (await ofRoom()).map((i) => [i.state, i.autoResolved]), { timeout: 5_000 }).toEqual([['resolved', true]]);
    await moved.close();
  });
});
