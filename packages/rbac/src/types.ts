/** The access engine's inputs. Plain data: the server loads it, the console caches it. */

export const portalPermissions = ['rooms.read', 'rooms.manage', 'incidents.manage', 'settings.manage', 'audit.read'] as const;
export const remoteAccessPermissions = ['remoteAccess.view', 'remoteAccess.modify'] as const;
export const permissions = [...portalPermissions, ...remoteAccessPermissions] as const;

export type PortalPermission = (typeof portalPermissions)[number];
export type RemoteAccessPermission = (typeof remoteAccessPermissions)[number];
export type Permission = (typeof permissions)[number];

export interface Role {
  id: string;
  name: string;
  builtIn: boolean;
  permissions: Permission[];
}

export interface Assignment {
  id: string;
  roleId: string;
  users: string[];
  groups: string[];
  rooms: string[];
  locations: string[];
  tags: string[];
}

export interface Policy {
  tenantId: string;
  remoteAccessEnabled: boolean;
  roles: Role[];
  assignments: Assignment[];
}

export interface Principal {
  tenantId: string;
  userId: string;
  groups: string[];
  directoryRoles: string[];
}

export interface RoomRef {
  id: string;
  tenantId: string;
  /** Location ids on the room's path: region, building, floor. */
  location: string[];
  tags: string[];
}

export type Level = 'none' | 'view' | 'modify';

/** Why a decision came out as it did, in words a log or a test can check. */
export type DecisionReason = 'wrong_tenant' | 'remote_access_disabled' | 'no_assignment' | 'assigned';

export interface Decision {
  level: Level;
  reason: DecisionReason;
  /** The assignments that granted the level; empty unless `reason` is `assigned`. */
  assignmentIds: string[];
}

export const GLOBAL_ADMINISTRATOR = 'GlobalAdministrator';
