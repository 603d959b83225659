import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from './agent-client';
import { ADMIN, grantAccess, startHarness, TECH, VIEWER, type Harness } from './harness';

/** The directory an administrator keeps: the location tree, rooms from creation to retirement, devices, and who can be named in a role. */

let h: Harness;
type Failure = { error?: { code: string; details?: string[] } };
type Room = { id: string; locationPath: { id: string; name: string }[]; enrolled: boolean; online: boolean };

const location = async (name: string, kind: string, parentId?: string) => {
  const created = await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name, kind, ...(parentId && { parentId }) });
  expect(created.status).toBe(201);
  return created.body.id;
};
const auditTypes = async (type: string) => (await h.api<{ records: { data: Record<string, unknown>; roomId: string | null }[] }>(ADMIN, 'GET', `/api/audit?type=${type}`)).body.records;
const closed = (ws: WebSocket) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the location tree', () => {
  it('renames and moves a building; the rooms beneath take the new path, and each change is audited with before and after', async () => {
    const norway = await location('Norway', 'region');
    const sweden = await location('Sweden', 'region');
    const office = await location('Oslo office', 'building', norway);
    const floor = await location('Floor 1', 'floor', office);
    const { roomId } = await h.room({ name: 'Fjord', locationId: floor });

    expect((await h.api(ADMIN, 'PATCH', `/api/locations/${office}`, { name: 'Stockholm office', parentId: sweden })).body).toMatchObject({ name: 'Stockholm office', parentId: sweden });
    const room = (await h.api<Room>(ADMIN, 'GET', `/api/rooms/${roomId}`)).body;
    expect(room.locationPath.map((l) => l.name)).toEqual(['Sweden', 'Stockholm office', 'Floor 1']);
    const [record] = await auditTypes('location.updated');
    expect(record!.data).toMatchObject({ before: { name: 'Oslo office', parentId: norway }, after: { name: 'Stockholm office', parentId: sweden } });
  });

  it('keeps the nesting strict when moving: a floor never lands in a region, a region never moves under anything', async () => {
    const region = await location('Denmark', 'region');
    const building = await location('Aarhus', 'building', region);
    const floor = await location('Ground', 'floor', building);
    expect(await h.api<Failure>(ADMIN, 'PATCH', `/api/locations/${floor}`, { parentId: region })).toMatchObject({ status: 400, body: { error: { details: ['A floor sits inside a building, not a region.'] } } });
    expect((await h.api(ADMIN, 'PATCH', `/api/locations/${region}`, { parentId: building })).status).toBe(400);
    expect((await h.api(ADMIN, 'PATCH', `/api/locations/${floor}`, { name: '' })).status).toBe(400);
  });

  it('deletes only an empty location no role names, and says what is still in it', async () => {
    const region = await location('Finland', 'region');
    const building = await location('Helsinki', 'building', region);
    expect(await h.api<Failure>(ADMIN, 'DELETE', `/api/locations/${region}`)).toMatchObject({ status: 409, body: { error: { code: 'conflict', details: ['Finland still holds 1 location(s). Move or delete them first.'] } } });
    const room = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Sauna', locationId: building });
    expect((await h.api<Failure>(ADMIN, 'DELETE', `/api/locations/${building}`)).body.error?.details).toEqual(['Helsinki still holds 1 room(s). Move or retire them first.']);
    await h.api(ADMIN, 'DELETE', `/api/rooms/${room.body.id}`);
    const role = await grantAccess(h, 'view', 'room-observers', { locations: [building] });
    expect((await h.api<Failure>(ADMIN, 'DELETE', `/api/locations/${building}`)).body.error?.details).toEqual(['Helsinki is named by the role(s) view room-observers. Change their assignments first.']);
    await h.api(ADMIN, 'DELETE', `/api/roles/${role}`);
    expect((await h.api(ADMIN, 'DELETE', `/api/locations/${building}`)).status).toBe(200);
    expect((await h.api(ADMIN, 'DELETE', `/api/locations/${region}`)).status).toBe(200);
    expect((await h.api<{ id: string }[]>(ADMIN, 'GET', '/api/locations')).body.map((l) => l.id)).not.toContain(region);
    expect((await auditTypes('location.deleted')).map((r) => (r.data.location as { name: string }).name)).toEqual(['Finland', 'Helsinki']);
  });
});

describe('a room’s life', () => {
  it('retires a room: gone from the directory and from role scopes, its device cut off, its history kept', async () => {
    const { roomId, agent } = await h.room({ name: 'Old boardroom' });
    const role = await grantAccess(h, 'modify', 'room-technicians', { rooms: [roomId] });
    const socket = agent.ws;
    expect(await h.api(ADMIN, 'DELETE', `/api/rooms/${roomId}`)).toMatchObject({ status: 200, body: { ok: true } });
    await closed(socket);
    expect((await h.api(ADMIN, 'GET', `/api/rooms/${roomId}`)).status).toBe(404);
    expect((await new TestAgent(h.server.url, agent.keys).connect(roomId)).type).toBe('error');
    const roleAfter = (await h.api<{ id: string; assignments: { rooms: string[] }[] }[]>(ADMIN, 'GET', '/api/roles')).body.find((r) => r.id === role)!;
    expect(roleAfter.assignments.flatMap((a) => a.rooms)).not.toContain(roomId);
    const [record] = await auditTypes('room.retired');
    expect(record).toMatchObject({ roomId, data: { before: { name: 'Old boardroom' }, rolesChanged: ['modify room-technicians'] } });
    expect((await auditTypes('room.enrolled')).some((r) => r.roomId === roomId)).toBe(true);
  });

  it('revokes a device: its key no longer proves the room, until a new code enrols it again', async () => {
    const { roomId, agent } = await h.room({ name: 'Huddle 7' });
    const socket = agent.ws;
    expect((await h.api<Room>(ADMIN, 'DELETE', `/api/rooms/${roomId}/enrollment`)).body).toMatchObject({ id: roomId, enrolled: false });
    await closed(socket);
    expect(await new TestAgent(h.server.url, agent.keys).connect(roomId)).toMatchObject({ type: 'error' });
    const code = await h.api<{ code: string }>(ADMIN, 'POST', `/api/rooms/${roomId}/enrollment-code`);
    const again = new TestAgent(h.server.url);
    expect((await again.enroll(code.body.code)).status).toBe(200);
    expect((await again.connect()).type).toBe('agent.welcome');
    await again.close();
    expect((await auditTypes('room.deviceRevoked')).map((r) => r.roomId)).toContain(roomId);
  });

  it('refuses both while a technician is in a session with the room', async () => {
    const { roomId } = await h.room({ name: 'Busy room' });
    await grantAccess(h, 'modify', 'room-technicians', { rooms: [roomId] });
    expect((await h.api(TECH, 'POST', '/api/sessions', { roomId })).status).toBe(201);
    expect((await h.api<Failure>(ADMIN, 'DELETE', `/api/rooms/${roomId}`)).body.error?.code).toBe('room_busy');
    expect((await h.api<Failure>(ADMIN, 'DELETE', `/api/rooms/${roomId}/enrollment`)).body.error?.code).toBe('room_busy');
  });
});

describe('who a role can name', () => {
  it('lists the users who signed in and the groups their tokens carried, to role managers only', async () => {
    await h.api(TECH, 'GET', '/api/me');
    await h.api(VIEWER, 'GET', '/api/me');
    const principals = await h.api<{ users: { name: string; username: string }[]; groups: { id: string }[] }>(ADMIN, 'GET', '/api/principals');
    expect(principals.body.users.map((u) => u.username)).toEqual(expect.arrayContaining([ADMIN, TECH, VIEWER]));
    expect(principals.body.groups.map((g) => g.id)).toEqual(expect.arrayContaining(['room-technicians', 'room-observers']));
    expect((await h.api(TECH, 'GET', '/api/principals')).status).toBe(403);
  });
});
