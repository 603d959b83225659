import type { Assignment, Policy, Principal, Role, RoomRef } from '../src';
import { builtInRoles } from '../src';

export const T = 'tenant-a';

export const viewRole: Role = { id: 'r-view', name: 'Room observers', builtIn: false, permissions: ['remoteAccess.view'] };
export const modifyRole: Role = { id: 'r-modify', name: 'Room technicians', builtIn: false, permissions: ['remoteAccess.modify'] };
export const portalRole: Role = { id: 'r-portal', name: 'Incident desk', builtIn: false, permissions: ['rooms.read', 'incidents.manage'] };

export function assignment(partial: Partial<Assignment> & Pick<Assignment, 'id' | 'roleId'>): Assignment {
  return { users: [], groups: [], rooms: [], locations: [], tags: [], ...partial };
}

export function policy(assignments: Assignment[], extra: Partial<Policy> = {}): Policy {
  return { tenantId: T, remoteAccessEnabled: true, roles: [...builtInRoles, viewRole, modifyRole, portalRole], assignments, ...extra };
}

export const alice: Principal = { tenantId: T, userId: 'alice', groups: ['g-tech'], directoryRoles: [] };
export const bob: Principal = { tenantId: T, userId: 'bob', groups: ['g-observers'], directoryRoles: [] };
export const admin: Principal = { tenantId: T, userId: 'admin', groups: [], directoryRoles: ['GlobalAdministrator'] };

export const roomNorth: RoomRef = { id: 'room-1', tenantId: T, location: ['emea', 'north', 'north-3'], tags: ['boardroom'] };
export const roomSouth: RoomRef = { id: 'room-2', tenantId: T, location: ['emea', 'south', 'south-1'], tags: [] };
