import { describe, expect, it } from 'vitest';
import { can, canInLocation, canManageRoles, holdsAnywhere, remoteAccessLevel, roomsWithRemoteAccess, type Role } from '../src';
import { admin, alice, assignment, bob, modifyRole, policy, roomNorth, roomSouth, T, viewRole } from './fixtures';

describe('rule 1: the tenant switch', () => {
  it('gives none to everyone while remote access is off, even with a modify assignment', () => {
    const p = policy([assignment({ id: 'a1', roleId: modifyRole.id, users: ['alice'], rooms: [roomNorth.id] })], { remoteAccessEnabled: false });
    expect(remoteAccessLevel(p, alice, roomNorth)).toEqual({ level: 'none', reason: 'remote_access_disabled', assignmentIds: [] });
    expect(roomsWithRemoteAccess(p, alice, [roomNorth]).size).toBe(0);
    expect(can(p, alice, 'remoteAccess.view', roomNorth)).toBe(false);
    expect(holdsAnywhere(p, alice, 'remoteAccess.view')).toBe(false);
  });
});

describe('rule 2: built-in roles carry no remote access', () => {
  it('ignores a remote-access permission forged onto a built-in role', () => {
    const forged: Role = { id: 'site-technician', name: 'Site Technician', builtIn: true, permissions: ['rooms.read', 'remoteAccess.modify'] };
    const p = policy([assignment({ id: 'a1', roleId: forged.id, users: ['alice'], rooms: [roomNorth.id] })]);
    const withForged = { ...p, roles: [...p.roles.filter((role) => role.id !== forged.id), forged] };
    expect(remoteAccessLevel(withForged, alice, roomNorth).level).toBe('none');
    expect(roomsWithRemoteAccess(withForged, alice, [roomNorth]).size).toBe(0);
    expect(can(withForged, alice, 'remoteAccess.modify', roomNorth)).toBe(false);
  });

  it('gives a Global Administrator every portal permission but no remote access', () => {
    const p = policy([]);
    expect(can(p, admin, 'settings.manage')).toBe(true);
    expect(can(p, admin, 'audit.read', roomNorth)).toBe(true);
    expect(remoteAccessLevel(p, admin, roomNorth).level).toBe('none');
    expect(can(p, admin, 'remoteAccess.view', roomNorth)).toBe(false);
  });

  it('treats modify as implying view', () => {
    const p = policy([assignment({ id: 'a1', roleId: modifyRole.id, users: ['alice'], rooms: [roomNorth.id] })]);
    expect(can(p, alice, 'remoteAccess.view', roomNorth)).toBe(true);
    expect(can(p, alice, 'remoteAccess.modify', roomNorth)).toBe(true);
    expect(holdsAnywhere(p, alice, 'remoteAccess.view')).toBe(true);
    expect(can(p, alice, 'remoteAccess.view')).toBe(false);
  });
});

describe('rule 3: who manages roles', () => {
  it('allows Global Administrators and Pro Managers, nobody else', () => {
    const p = policy([
      assignment({ id: 'a1', roleId: 'pro-manager', users: ['bob'] }),
      assignment({ id: 'a2', roleId: modifyRole.id, users: ['alice'], rooms: [roomNorth.id] }),
    ]);
    expect(canManageRoles(p, admin)).toBe(true);
    expect(canManageRoles(p, bob)).toBe(true);
    expect(canManageRoles(p, alice)).toBe(false);
  });

  it('does not let a Global Administrator of another tenant manage roles', () => {
    expect(canManageRoles(policy([]), { ...admin, tenantId: 'tenant-b' })).toBe(false);
  });
});

describe('rule 4: assignments scope users and rooms', () => {
  const cases: { name: string; scope: { rooms?: string[]; locations?: string[]; tags?: string[] }; north: string; south: string }[] = [
    { name: 'room listed directly', scope: { rooms: ['room-1'] }, north: 'modify', south: 'none' },
    { name: 'building on the path', scope: { locations: ['north'] }, north: 'modify', south: 'none' },
    { name: 'region on the path', scope: { locations: ['emea'] }, north: 'modify', south: 'modify' },
    { name: 'tag', scope: { tags: ['boardroom'] }, north: 'modify', south: 'none' },
    { name: 'empty scope', scope: {}, north: 'none', south: 'none' },
  ];
  for (const c of cases) {
    it(`scopes rooms by ${c.name}`, () => {
      const p = policy([assignment({ id: 'a1', roleId: modifyRole.id, groups: ['g-tech'], ...c.scope })]);
      expect(remoteAccessLevel(p, alice, roomNorth).level).toBe(c.north);
      expect(remoteAccessLevel(p, alice, roomSouth).level).toBe(c.south);
    });
  }

  it('reaches a user directly or through a group, nobody else', () => {
    const p = policy([
      assignment({ id: 'a1', roleId: viewRole.id, users: ['alice'], rooms: [roomNorth.id] }),
      assignment({ id: 'a2', roleId: viewRole.id, groups: ['g-observers'], rooms: [roomSouth.id] }),
    ]);
    expect(remoteAccessLevel(p, alice, roomNorth).level).toBe('view');
    expect(remoteAccessLevel(p, alice, roomSouth).level).toBe('none');
    expect(remoteAccessLevel(p, bob, roomSouth).level).toBe('view');
    expect(remoteAccessLevel(p, bob, roomNorth)).toEqual({ level: 'none', reason: 'no_assignment', assignmentIds: [] });
  });

  it('adds up permissions from several roles and names every contributing assignment', () => {
    const p = policy([
      assignment({ id: 'a1', roleId: viewRole.id, groups: ['g-tech'], locations: ['emea'] }),
      assignment({ id: 'a2', roleId: modifyRole.id, users: ['alice'], tags: ['boardroom'] }),
    ]);
    expect(remoteAccessLevel(p, alice, roomNorth)).toEqual({ level: 'modify', reason: 'assigned', assignmentIds: ['a1', 'a2'] });
    expect(remoteAccessLevel(p, alice, roomSouth)).toEqual({ level: 'view', reason: 'assigned', assignmentIds: ['a1'] });
    expect(roomsWithRemoteAccess(p, alice, [roomNorth, roomSouth])).toEqual(
      new Map([
        ['room-1', 'modify'],
        ['room-2', 'view'],
      ]),
    );
  });

  it('ignores assignments to unknown roles', () => {
    const p = policy([assignment({ id: 'a1', roleId: 'deleted-role', users: ['alice'], rooms: [roomNorth.id] })]);
    expect(remoteAccessLevel(p, alice, roomNorth).level).toBe('none');
  });

  it('scopes portal permissions of a scoped assignment to its rooms, of an unscoped one to the tenant', () => {
    const p = policy([
      assignment({ id: 'a1', roleId: 'site-lead', users: ['alice'], locations: ['north'] }),
      assignment({ id: 'a2', roleId: 'site-technician', users: ['bob'] }),
    ]);
    expect(can(p, alice, 'rooms.manage', roomNorth)).toBe(true);
    expect(can(p, alice, 'rooms.manage', roomSouth)).toBe(false);
    expect(can(p, alice, 'settings.manage')).toBe(false);
    expect(can(p, bob, 'rooms.read', roomSouth)).toBe(true);
    expect(can(p, bob, 'rooms.read')).toBe(true);
    expect(can(p, bob, 'rooms.manage', roomSouth)).toBe(false);
  });

  it('treats a scoped holder as holding the permission there only, never tenant-wide', () => {
    const p = policy([assignment({ id: 'a1', roleId: 'site-lead', users: ['alice'], locations: ['north'] })]);
    expect(can(p, alice, 'rooms.manage')).toBe(false);
    expect(holdsAnywhere(p, alice, 'rooms.manage')).toBe(true);
    expect(holdsAnywhere(p, alice, 'audit.read')).toBe(false);
    expect(canInLocation(p, alice, 'rooms.manage', ['emea', 'north'])).toBe(true);
    expect(canInLocation(p, alice, 'rooms.manage', ['emea'])).toBe(false);
    expect(canInLocation(p, alice, 'rooms.manage', ['emea', 'south'])).toBe(false);
    expect(canInLocation(p, admin, 'rooms.manage', ['emea'])).toBe(true);
  });
});

describe('rule 13: no decision crosses tenants', () => {
  const p = policy([assignment({ id: 'a1', roleId: modifyRole.id, users: ['alice'], locations: ['emea'] })]);

  it('refuses a principal of another tenant', () => {
    const intruder = { ...alice, tenantId: 'tenant-b' };
    expect(remoteAccessLevel(p, intruder, roomNorth)).toEqual({ level: 'none', reason: 'wrong_tenant', assignmentIds: [] });
    expect(roomsWithRemoteAccess(p, intruder, [roomNorth]).size).toBe(0);
    expect(can(p, { ...admin, tenantId: 'tenant-b' }, 'rooms.read')).toBe(false);
  });

  it('refuses a room of another tenant that reuses a known id, location and tag', () => {
    const foreign = { ...roomNorth, tenantId: 'tenant-b' };
    expect(remoteAccessLevel(p, alice, foreign).reason).toBe('wrong_tenant');
    expect(roomsWithRemoteAccess(p, alice, [foreign]).size).toBe(0);
    expect(can(p, admin, 'rooms.read', foreign)).toBe(false);
    expect(T).not.toBe(foreign.tenantId);
  });
});
