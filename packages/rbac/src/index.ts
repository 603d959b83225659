export { remoteAccessLevel, roomsWithRemoteAccess, can, canAssignScope, canInLocation, canManageRoles, holdsAnywhere, type ScopeToAssign } from './engine';
export { builtInRoles, builtInRoleIds, PRO_MANAGER_ROLE_ID } from './builtins';
export {
  GLOBAL_ADMINISTRATOR,
  permissions,
  portalPermissions,
  remoteAccessPermissions,
  type Assignment,
  type Decision,
  type DecisionReason,
  type Level,
  type Permission,
  type Policy,
  type PortalPermission,
  type Principal,
  type RemoteAccessPermission,
  type Role,
  type RoomRef,
} from './types';
