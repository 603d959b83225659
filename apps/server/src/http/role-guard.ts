import { builtInRoleIds, canAssignScope, canManageRoles, GLOBAL_ADMINISTRATOR, PRO_MANAGER_ROLE_ID, roomsWithRemoteAccess, type Assignment, type Permission, type Policy } from '@roomlink/rbac';
import type { AssignmentInput } from '@roomlink/shared';
import type { Caller } from '../auth/tokens';
import { ApiFailure } from '../errors';
import { roomRef, type Services } from './services';

/** What a role will be after the change: its permissions and assignments; null when it is deleted. */
export interface RoleChange {
  permissions: readonly Permission[];
  assignments: readonly AssignmentInput[];
}

const rank = { view: 1, modify: 2 } as const;

/**
 * Rules 3 and 4 for every change to a role or its assignments: only role
 * managers; only a Global Administrator assigns the Pro Manager role; a Pro
 * Manager touches only roles whose assignments lie inside their own scope
 * and hands out nothing wider; and nobody's change may raise their own
 * remote-access level on any room.
 */
export async function guardRoleChange(services: Services, caller: Caller, roleId: string | null, next: RoleChange | null): Promise<void> {
  const { directory } = services;
  const tenantId = caller.principal.tenantId;
  const policy = await directory.policy(tenantId);
  if (!canManageRoles(policy, caller.principal)) throw new ApiFailure('not_permitted');
  if (roleId === PRO_MANAGER_ROLE_ID && !caller.principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR)) throw new ApiFailure('not_permitted', ['Only a Global Administrator assigns the Pro Manager role.']);
  const rooms = new Map((await directory.rooms(tenantId)).map((room) => [room.id, room]));
  const parents = new Map((await directory.locations(tenantId)).map((l) => [l.id as string, l.parentId as string | null]));
  // Each location's path from its region, from the one list: regions, buildings and floors nest three deep.
  const pathOf = (id: string): string[] => {
    const parent = parents.get(id);
    return parent ? [...pathOf(parent), id] : [id];
  };
  const assignable = (a: Pick<Assignment, 'rooms' | 'locations' | 'tags'>) =>
    canAssignScope(policy, caller.principal, {
      rooms: a.rooms.flatMap((id) => {
        const room = rooms.get(id);
        return room ? [roomRef(room)] : [];
      }),
      // An unknown location is refused by the directory with its own message; here it is in nobody's scope.
      locationPaths: a.locations.map((id) => (parents.has(id) ? pathOf(id) : [])),
      tags: a.tags,
    });
  const current = roleId ? policy.assignments.filter((a) => a.roleId === roleId) : [];
  const wanted = (next?.assignments ?? []).map((a, index) => ({ id: `next-${index}`, roleId: roleId ?? 'next', users: a.users ?? [], groups: a.groups ?? [], rooms: a.rooms ?? [], locations: a.locations ?? [], tags: a.tags ?? [] }));
  if (![...current, ...wanted].every(assignable)) throw new ApiFailure('not_permitted', ['The role reaches rooms outside what you may assign.']);
  if (!next) return;

  const existing = policy.roles.find((role) => role.id === roleId);
  const changed = { id: roleId ?? 'next', name: existing?.name ?? 'next', builtIn: roleId !== null && builtInRoleIds.has(roleId), permissions: [...(existing?.builtIn ? existing.permissions : next.permissions)] };
  const after: Policy = {
    ...policy,
    roles: [...policy.roles.filter((role) => role.id !== changed.id), changed],
    assignments: [...policy.assignments.filter((a) => a.roleId !== changed.id), ...wanted],
  };
  const refs = [...rooms.values()].map(roomRef);
  // Asked as if remote access were on: a widening made while it is off would take effect the moment it is turned on.
  const before = roomsWithRemoteAccess({ ...policy, remoteAccessEnabled: true }, caller.principal, refs);
  for (const [roomId, level] of roomsWithRemoteAccess({ ...after, remoteAccessEnabled: true }, caller.principal, refs)) {
    const had = before.get(roomId);
    if (!had || rank[level] > rank[had]) throw new ApiFailure('not_permitted', ['The change would give you remote access you do not have. Ask another administrator to make it.']);
  }
}
