import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { remoteAccessLevel, roomsWithRemoteAccess, type Assignment, type Level, type Policy, type Principal, type RoomRef } from '../src';
import { policy, T } from './fixtures';

const ids = (prefix: string) => fc.constantFrom(...[0, 1, 2, 3].map((i) => `${prefix}${i}`));
const roleIds = fc.constantFrom('r-view', 'r-modify', 'r-portal', 'pro-manager', 'site-lead', 'site-technician');

const arbAssignment: fc.Arbitrary<Assignment> = fc.record({
  id: fc.uuid(),
  roleId: roleIds,
  users: fc.uniqueArray(ids('u'), { maxLength: 2 }),
  groups: fc.uniqueArray(ids('g'), { maxLength: 2 }),
  rooms: fc.uniqueArray(ids('room'), { maxLength: 2 }),
  locations: fc.uniqueArray(ids('loc'), { maxLength: 2 }),
  tags: fc.uniqueArray(ids('tag'), { maxLength: 2 }),
});
const arbPolicy: fc.Arbitrary<Policy> = fc.tuple(fc.array(arbAssignment, { maxLength: 6 }), fc.boolean()).map(([assignments, remoteAccessEnabled]) =>
  policy(assignments, { remoteAccessEnabled }),
);
const arbPrincipal: fc.Arbitrary<Principal> = fc.record({
  tenantId: fc.constant(T),
  userId: ids('u'),
  groups: fc.uniqueArray(ids('g'), { maxLength: 3 }),
  directoryRoles: fc.constantFrom([], ['GlobalAdministrator']),
});
const arbRoom: fc.Arbitrary<RoomRef> = fc.record({
  id: ids('room'),
  tenantId: fc.constant(T),
  location: fc.uniqueArray(ids('loc'), { maxLength: 3 }),
  tags: fc.uniqueArray(ids('tag'), { maxLength: 2 }),
});
const rank: Record<Level, number> = { none: 0, view: 1, modify: 2 };

describe('access engine invariants', () => {
  it('never lowers a level when an assignment is added', () => {
    fc.assert(
      fc.property(arbPolicy, arbAssignment, arbPrincipal, arbRoom, (p, extra, principal, room) => {
        const before = remoteAccessLevel(p, principal, room).level;
        const after = remoteAccessLevel({ ...p, assignments: [...p.assignments, extra] }, principal, room).level;
        expect(rank[after]).toBeGreaterThanOrEqual(rank[before]);
      }),
    );
  });

  it('gives none for every room once the tenant switch is off', () => {
    fc.assert(
      fc.property(arbPolicy, arbPrincipal, fc.array(arbRoom, { maxLength: 5 }), (p, principal, rooms) => {
        const off = { ...p, remoteAccessEnabled: false };
        for (const room of rooms) expect(remoteAccessLevel(off, principal, room).level).toBe('none');
        expect(roomsWithRemoteAccess(off, principal, rooms).size).toBe(0);
      }),
    );
  });

  it('grants view wherever it grants modify', () => {
    fc.assert(
      fc.property(arbPolicy, arbPrincipal, arbRoom, (p, principal, room) => {
        const decision = remoteAccessLevel(p, principal, room);
        if (decision.level === 'modify') {
          const viewOnly = { ...p, roles: p.roles.map((role) => (role.id === 'r-modify' ? { ...role, permissions: ['remoteAccess.view' as const] } : role)) };
          expect(remoteAccessLevel(viewOnly, principal, room).level).toBe('view');
        }
        expect(decision.level === 'none').toBe(decision.assignmentIds.length === 0);
      }),
    );
  });

  it('gives none to anything of another tenant', () => {
    fc.assert(
      fc.property(arbPolicy, arbPrincipal, arbRoom, fc.constantFrom('tenant-b', 'tenant-c'), (p, principal, room, other) => {
        expect(remoteAccessLevel(p, { ...principal, tenantId: other }, room).level).toBe('none');
        expect(remoteAccessLevel(p, principal, { ...room, tenantId: other }).level).toBe('none');
        expect(roomsWithRemoteAccess(p, principal, [{ ...room, tenantId: other }]).size).toBe(0);
      }),
    );
  });

  it('agrees between the bulk and the single-room answers', () => {
    fc.assert(
      fc.property(arbPolicy, arbPrincipal, fc.uniqueArray(arbRoom, { maxLength: 6, selector: (room) => room.id }), (p, principal, rooms) => {
        const bulk = roomsWithRemoteAccess(p, principal, rooms);
        for (const room of rooms) expect(bulk.get(room.id) ?? 'none').toBe(remoteAccessLevel(p, principal, room).level);
      }),
    );
  });
});
