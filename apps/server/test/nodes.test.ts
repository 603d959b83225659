import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server';
import { ADMIN, startHarness, VIEWER, type Harness } from './harness';
import { testPostgresUrl } from './postgres';

/** Two server nodes on one PostgreSQL: what one node changes, the other decides by at its next request. */

let h: Harness;
let other: RunningServer;
beforeAll(async () => {
  h = await startHarness({ store: { engine: 'postgres', url: await testPostgresUrl() } });
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
