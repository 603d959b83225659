import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, TECH, type Harness } from './harness';

/**
 * The Pro Manager role (rule 3) and rule 4 for roles: a Global Administrator
 * makes Pro Managers, tenant-wide or scoped; a scoped Pro Manager manages
 * roles only inside that scope, and no one — administrator or manager —
 * can write a role that raises their own remote access.
 */

let h: Harness;
let north: string;
let south: string;
let southRole: string;
type Failure = { error?: { code: string; details?: string[] } };

beforeAll(async () => {
  h = await startHarness();
  const region = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'EMEA', kind: 'region' })).body.id;
  north = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'North', kind: 'building', parentId: region })).body.id;
  south = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'South', kind: 'building', parentId: region })).body.id;
  await h.room({ name: 'Board North', locationId: north });
  await h.room({ name: 'Board South', locationId: south });
  southRole = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', { name: 'South viewers', permissions: ['remoteAccess.view'], assignments: [{ groups: ['room-observers'], locations: [south] }] })).body.id;
});
afterAll(() => h.close());

const observersNorth = { name: 'North viewers', permissions: ['remoteAccess.view'], assignments: [{ groups: ['room-observers'], locations: [] as string[] }] };

describe('the Pro Manager role', () => {
  it('is assigned by a Global Administrator only, and the assignment is audited', async () => {
    expect(await h.api<Failure>(TECH, 'PUT', '/api/roles/pro-manager/assignments', { assignments: [{ users: ['u-tech'] }] })).toMatchObject({ status: 403 });
    const assigned = await h.api<{ assignments: { users: string[]; locations: string[] }[] }>(ADMIN, 'PUT', '/api/roles/pro-manager/assignments', { assignments: [{ users: ['u-tech'], locations: [north] }] });
    expect(assigned).toMatchObject({ status: 200, body: { assignments: [{ users: ['u-tech'], locations: [north] }] } });
    expect((await h.api<{ canManageRoles: boolean }>(TECH, 'GET', '/api/me')).body.canManageRoles).toBe(true);
    const record = (await h.api<{ records: { data: { after: { id: string } } }[] }>(ADMIN, 'GET', '/api/audit?type=role.updated&limit=1')).body.records[0]!;
    expect(record.data.after.id).toBe('pro-manager');
    // A Pro Manager cannot make more Pro Managers, not even inside their own scope.
    expect((await h.api(TECH, 'PUT', '/api/roles/pro-manager/assignments', { assignments: [{ users: ['u-tech', 'u-viewer'], locations: [north] }] })).status).toBe(403);
  });

  it('lets a scoped Pro Manager hand out roles inside their scope, and nothing wider', async () => {
    observersNorth.assignments[0]!.locations = [north];
    expect((await h.api(TECH, 'POST', '/api/roles', observersNorth)).status).toBe(201);
    expect((await h.api(TECH, 'POST', '/api/roles', { ...observersNorth, name: 'Everywhere', assignments: [{ groups: ['room-observers'], locations: [south] }] })).status).toBe(403);
    expect((await h.api(TECH, 'POST', '/api/roles', { name: 'Tenant-wide readers', permissions: ['rooms.read', 'audit.read'], assignments: [{ groups: ['room-observers'] }] })).status).toBe(403);
  });

  it('keeps a scoped Pro Manager off roles that reach outside their scope', async () => {
    expect((await h.api(TECH, 'PUT', `/api/roles/${southRole}`, { name: 'South viewers', permissions: ['remoteAccess.view'], assignments: [{ groups: ['room-observers'], locations: [north] }] })).status).toBe(403);
    expect((await h.api(TECH, 'DELETE', `/api/roles/${southRole}`)).status).toBe(403);
    expect((await h.api<{ id: string }[]>(ADMIN, 'GET', '/api/roles')).body.some((r) => r.id === southRole)).toBe(true);
  });
});

describe('rule 4 for roles: nobody raises their own remote access', () => {
  it('refuses a Pro Manager a role that reaches themselves, directly or through their group', async () => {
    for (const who of [{ users: ['u-tech'] }, { groups: ['room-technicians'] }]) {
      const created = await h.api<Failure>(TECH, 'POST', '/api/roles', { name: 'Self', permissions: ['remoteAccess.modify'], assignments: [{ ...who, locations: [north] }] });
      expect(created).toMatchObject({ status: 403, body: { error: { details: [expect.stringMatching(/remote access you do not have/)] } } });
    }
  });

  it('refuses a Global Administrator too, even while remote access is off', async () => {
    const created = await h.api(ADMIN, 'POST', '/api/roles', { name: 'Admin self', permissions: ['remoteAccess.modify'], assignments: [{ users: ['u-admin'], locations: [north] }] });
    expect(created.status).toBe(403);
    // Raising someone else is the administrator's job.
    expect((await h.api(ADMIN, 'POST', '/api/roles', { name: 'Viewer modify', permissions: ['remoteAccess.modify'], assignments: [{ users: ['u-viewer'], locations: [north] }] })).status).toBe(201);
    expect((await h.api<{ name: string; assignments: { users: string[] }[] }[]>(ADMIN, 'GET', '/api/roles')).body.find((r) => r.name === 'Viewer modify')!.assignments[0]!.users).toEqual(['u-viewer']);
  });
});
