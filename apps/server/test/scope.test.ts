import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, TECH, type Harness } from './harness';

/**
 * Rule 4 and scoped portal permissions, from the view of a technician who
 * manages the rooms of one building and tries to reach further: by moving,
 * retagging or relicensing a room, by creating rooms and locations outside
 * the building, and by reading other rooms' audit records.
 */

let h: Harness;
let north: string;
let south: string;
let elsewhere: string;
let boardNorth: string;
let boardSouth: string;
type Failure = { error?: { code: string } };

const location = async (name: string, kind: string, parentId?: string) => {
  const created = await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name, kind, ...(parentId && { parentId }) });
  expect(created.status).toBe(201);
  return created.body.id;
};

const role = async (name: string, permissions: string[], assignment: Record<string, string[]>) => {
  const created = await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', { name, permissions, assignments: [{ users: ['u-tech'], ...assignment }] });
  expect(created.status).toBe(201);
};

beforeAll(async () => {
  h = await startHarness();
  await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
  const region = await location('EMEA', 'region');
  north = await location('North', 'building', region);
  south = await location('South', 'building', region);
  elsewhere = await location('Elsewhere', 'region');
  // The technician manages and audits both buildings' rooms, but may type only in the South building and in lobbies.
  await role('Site lead, North and South', ['rooms.read', 'rooms.manage', 'audit.read'], { locations: [north, south] });
  await role('Modify South', ['remoteAccess.modify'], { locations: [south] });
  await role('Modify lobbies', ['remoteAccess.modify'], { tags: ['lobby'] });
  boardNorth = (await h.room({ name: 'Board North', locationId: north })).roomId;
  boardSouth = (await h.room({ name: 'Board South', locationId: south })).roomId;
});
afterAll(() => h.close());

describe('rule 4: a manager cannot widen their own access', () => {
  it('refuses moving a room into a location where the mover may type, and the session that would follow', async () => {
    const moved = await h.api<Failure>(TECH, 'PATCH', `/api/rooms/${boardNorth}`, { locationId: south });
    expect(moved).toMatchObject({ status: 403, body: { error: { code: 'not_permitted' } } });
    expect((await h.api<{ locationId: string }>(ADMIN, 'GET', `/api/rooms/${boardNorth}`)).body.locationId).toBe(north);
    expect((await h.api<Failure>(TECH, 'POST', '/api/sessions', { roomId: boardNorth })).body.error?.code).toBe('not_permitted');
  });

  it('refuses a tag that would grant remote access, and a licence that would switch it on', async () => {
    expect((await h.api(TECH, 'PATCH', `/api/rooms/${boardNorth}`, { tags: ['lobby'] })).status).toBe(403);
    const basic = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Basic South', locationId: south, license: 'basic' });
    expect((await h.api(TECH, 'PATCH', `/api/rooms/${basic.body.id}`, { license: 'pro' })).status).toBe(403);
    expect((await h.api<{ license: string }>(ADMIN, 'GET', `/api/rooms/${basic.body.id}`)).body.license).toBe('basic');
  });

  it('refuses moving a floor, with its rooms, to where the mover may type, and a building out of the mover’s scope', async () => {
    const floor = await location('North 2', 'floor', north);
    const huddle = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Huddle North 2', locationId: floor })).body.id;
    expect(await h.api<Failure>(TECH, 'PATCH', `/api/locations/${floor}`, { parentId: south })).toMatchObject({ status: 403, body: { error: { code: 'not_permitted' } } });
    expect((await h.api<{ locationPath: { id: string }[] }>(ADMIN, 'GET', `/api/rooms/${huddle}`)).body.locationPath.map((l) => l.id)).toContain(north);
    expect((await h.api(TECH, 'PATCH', `/api/locations/${north}`, { parentId: elsewhere })).status).toBe(403);
    expect((await h.api(TECH, 'DELETE', `/api/locations/${elsewhere}`)).status).toBe(403);
    // Renaming widens nothing.
    expect((await h.api(TECH, 'PATCH', `/api/locations/${floor}`, { name: 'North, 2nd floor' })).status).toBe(200);
  });

  it('refuses retiring or revoking a room outside the mover’s scope', async () => {
    const outside = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Far away', locationId: elsewhere })).body.id;
    expect((await h.api(TECH, 'DELETE', `/api/rooms/${outside}`)).status).toBe(403);
    expect((await h.api(TECH, 'DELETE', `/api/rooms/${outside}/enrollment`)).status).toBe(403);
    expect((await h.api(ADMIN, 'GET', `/api/rooms/${outside}`)).status).toBe(200);
  });

  it('refuses moving a room out of the mover’s scope', async () => {
    expect((await h.api(TECH, 'PATCH', `/api/rooms/${boardSouth}`, { locationId: elsewhere })).status).toBe(403);
  });

  it('allows the changes that widen nothing, each audited', async () => {
    const renamed = await h.api<{ name: string }>(TECH, 'PATCH', `/api/rooms/${boardNorth}`, { name: 'Board North (3rd floor)', tags: ['boardroom'] });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Board North (3rd floor)' } });
    // Out of a location where they may type into one where they may not: narrower, so allowed.
    const narrowed = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Moving South', locationId: south });
    expect((await h.api(TECH, 'PATCH', `/api/rooms/${narrowed.body.id}`, { locationId: north })).status).toBe(200);
    const records = (await h.api<{ records: { roomId: string; actorName: string }[] }>(ADMIN, 'GET', '/api/audit?type=room.updated')).body.records;
    expect(records.map((r) => r.roomId)).toEqual([narrowed.body.id, boardNorth]);
  });
});

describe('room-scoped portal permissions act only on their scope', () => {
  it('creates rooms and locations inside the scope only, and audits a new location', async () => {
    expect((await h.api(TECH, 'POST', '/api/rooms', { name: 'Rogue' })).status).toBe(403);
    expect((await h.api(TECH, 'POST', '/api/rooms', { name: 'Rogue', locationId: elsewhere })).status).toBe(403);
    expect((await h.api(TECH, 'POST', '/api/rooms', { name: 'Huddle North', locationId: north })).status).toBe(201);
    expect((await h.api(TECH, 'POST', '/api/locations', { name: 'APAC', kind: 'region' })).status).toBe(403);
    expect((await h.api(TECH, 'POST', '/api/locations', { name: 'Floor 9', kind: 'floor', parentId: elsewhere })).status).toBe(403);
    const floor = await h.api<{ id: string }>(TECH, 'POST', '/api/locations', { name: 'Floor 3', kind: 'floor', parentId: north });
    expect(floor.status).toBe(201);
    const record = (await h.api<{ records: { actorId: string; data: { location: { id: string } } }[] }>(ADMIN, 'GET', '/api/audit?type=location.created&limit=1')).body.records[0]!;
    expect(record).toMatchObject({ actorId: 'u-tech', data: { location: { id: floor.body.id } } });
  });

  it('refuses an assignment to a room or location that does not exist, so no future id can inherit it', async () => {
    const role = (assignment: object) => h.api<Failure & { error?: { details?: string[] } }>(ADMIN, 'POST', '/api/roles', { name: 'Ghosts', permissions: ['remoteAccess.modify'], assignments: [{ groups: ['room-technicians'], ...assignment }] });
    expect((await role({ rooms: ['room-not-yet'] })).body.error).toMatchObject({ code: 'bad_request', details: [expect.stringMatching(/room that does not exist: room-not-yet/)] });
    expect((await role({ locations: [north, 'loc-not-yet'] })).body.error).toMatchObject({ code: 'bad_request', details: [expect.stringMatching(/location that does not exist: loc-not-yet/)] });
    expect((await h.api<{ id: string; name: string }[]>(ADMIN, 'GET', '/api/roles')).body.some((r) => r.name === 'Ghosts')).toBe(false);
  });

  it('refuses locations that do not nest: a floor with no building, a building inside a building', async () => {
    expect((await h.api(ADMIN, 'POST', '/api/locations', { name: 'Loose floor', kind: 'floor' })).status).toBe(400);
    expect((await h.api(ADMIN, 'POST', '/api/locations', { name: 'Annex', kind: 'building', parentId: north })).status).toBe(400);
  });

  it('reads the audit of the scope’s rooms only, never the tenant’s own records, and cannot verify the chain', async () => {
    const outside = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Far away', locationId: elsewhere });
    const all = (await h.api<{ records: { roomId: string | null }[] }>(ADMIN, 'GET', '/api/audit?limit=500')).body.records;
    expect(all.some((r) => r.roomId === outside.body.id)).toBe(true);
    expect(all.some((r) => r.roomId === null)).toBe(true);

    const mine = (await h.api<{ records: { roomId: string | null; type: string }[] }>(TECH, 'GET', '/api/audit?limit=500')).body.records;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.roomId !== null && r.roomId !== outside.body.id)).toBe(true);
    expect((await h.api<{ records: unknown[] }>(TECH, 'GET', `/api/audit?roomId=${outside.body.id}`)).body.records).toEqual([]);
    const csv = (await h.api<string>(TECH, 'GET', '/api/audit.csv')).body;
    expect(csv).not.toContain(outside.body.id);
    expect(csv).not.toContain('remoteAccess.enabled');
    expect((await h.api(TECH, 'GET', '/api/audit/verify')).status).toBe(403);
    expect((await h.api<{ permissions: string[] }>(TECH, 'GET', '/api/me')).body.permissions).toEqual(expect.arrayContaining(['audit.read', 'rooms.manage', 'remoteAccess.modify']));
  });
});
