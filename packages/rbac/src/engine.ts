import { PRO_MANAGER_ROLE_ID } from './builtins';
import {
  GLOBAL_ADMINISTRATOR,
  type Assignment,
  type Decision,
  type Level,
  type Permission,
  type Policy,
  type PortalPermission,
  type Principal,
  type Role,
  type RoomRef,
} from './types';

const rank: Record<Level, number> = { none: 0, view: 1, modify: 2 };
const higher = (a: Level, b: Level): Level => (rank[a] >= rank[b] ? a : b);

/** The remote-access level a role confers. Built-in roles confer none, whatever their data says (rule 2). */
function roleLevel(role: Role | undefined): Level {
  if (!role || role.builtIn) return 'none';
  if (role.permissions.includes('remoteAccess.modify')) return 'modify';
  if (role.permissions.includes('remoteAccess.view')) return 'view';
  return 'none';
}

interface Grant {
  assignmentId: string;
  level: Level;
}

/** A principal's remote-access assignments, folded into lookups by room id, location id and tag. */
interface PrincipalTables {
  byRoom: Map<string, Grant[]>;
  byLocation: Map<string, Grant[]>;
  byTag: Map<string, Grant[]>;
  /** The highest level per key, as a rank, for the bulk path that needs no assignment ids. */
  rankByRoom: Map<string, number>;
  rankByLocation: Map<string, number>;
  rankByTag: Map<string, number>;
  empty: boolean;
}

interface CompiledPolicy {
  roles: Map<string, Role>;
  /** Remote-access assignments by the user ids and group ids they name. */
  byUser: Map<string, Assignment[]>;
  byGroup: Map<string, Assignment[]>;
  levels: Map<Assignment, Level>;
  principals: WeakMap<Principal, PrincipalTables>;
}

/**
 * Policies and principals are treated as immutable values: their indexes are
 * built once per object and dropped with it.
 */
const compiled = new WeakMap<Policy, CompiledPolicy>();

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function compile(policy: Policy): CompiledPolicy {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const roles = new Map(policy.roles.map((role) => [role.id, role]));
  const entry: CompiledPolicy = { roles, byUser: new Map(), byGroup: new Map(), levels: new Map(), principals: new WeakMap() };
  for (const assignment of policy.assignments) {
    const level = roleLevel(roles.get(assignment.roleId));
    if (level === 'none' || !hasScope(assignment)) continue;
    entry.levels.set(assignment, level);
    for (const user of assignment.users) push(entry.byUser, user, assignment);
    for (const group of assignment.groups) push(entry.byGroup, group, assignment);
  }
  compiled.set(policy, entry);
  return entry;
}

function tablesFor(policy: Policy, principal: Principal): PrincipalTables {
  const entry = compile(policy);
  const cached = entry.principals.get(principal);
  if (cached) return cached;
  const mine = new Set(entry.byUser.get(principal.userId));
  for (const group of principal.groups) for (const assignment of entry.byGroup.get(group) ?? []) mine.add(assignment);
  const tables: PrincipalTables = {
    byRoom: new Map(),
    byLocation: new Map(),
    byTag: new Map(),
    rankByRoom: new Map(),
    rankByLocation: new Map(),
    rankByTag: new Map(),
    empty: mine.size === 0,
  };
  const add = (grants: Map<string, Grant[]>, ranks: Map<string, number>, keys: string[], grant: Grant) => {
    for (const key of new Set(keys)) {
      push(grants, key, grant);
      ranks.set(key, Math.max(ranks.get(key) ?? 0, rank[grant.level]));
    }
  };
  for (const assignment of mine) {
    const grant = { assignmentId: assignment.id, level: entry.levels.get(assignment)! };
    add(tables.byRoom, tables.rankByRoom, assignment.rooms, grant);
    add(tables.byLocation, tables.rankByLocation, assignment.locations, grant);
    add(tables.byTag, tables.rankByTag, assignment.tags, grant);
  }
  entry.principals.set(principal, tables);
  return tables;
}

function includesPrincipal(assignment: Assignment, principal: Principal): boolean {
  return assignment.users.includes(principal.userId) || principal.groups.some((group) => assignment.groups.includes(group));
}

function hasScope(assignment: Assignment): boolean {
  return assignment.rooms.length > 0 || assignment.locations.length > 0 || assignment.tags.length > 0;
}

function scopesRoom(assignment: Assignment, room: RoomRef): boolean {
  return (
    assignment.rooms.includes(room.id) ||
    room.location.some((location) => assignment.locations.includes(location)) ||
    room.tags.some((tag) => assignment.tags.includes(tag))
  );
}

/** Every grant that reaches `room` through its id, a location on its path or a tag. */
function grantsFor(tables: PrincipalTables, room: RoomRef, visit: (grant: Grant) => void): void {
  for (const grant of tables.byRoom.get(room.id) ?? []) visit(grant);
  for (const location of room.location) for (const grant of tables.byLocation.get(location) ?? []) visit(grant);
  for (const tag of room.tags) for (const grant of tables.byTag.get(tag) ?? []) visit(grant);
}

/** Rule 13 before anything else; then rule 1. */
function gate(policy: Policy, principal: Principal, room?: RoomRef): Decision | null {
  if (principal.tenantId !== policy.tenantId || (room && room.tenantId !== policy.tenantId)) {
    return { level: 'none', reason: 'wrong_tenant', assignmentIds: [] };
  }
  if (!policy.remoteAccessEnabled) return { level: 'none', reason: 'remote_access_disabled', assignmentIds: [] };
  return null;
}

/** Rules 1, 2, 4 and 13: the remote-access level one principal has on one room. */
export function remoteAccessLevel(policy: Policy, principal: Principal, room: RoomRef): Decision {
  const refused = gate(policy, principal, room);
  if (refused) return refused;
  let level: Level = 'none';
  const assignmentIds = new Set<string>();
  grantsFor(tablesFor(policy, principal), room, (grant) => {
    level = higher(level, grant.level);
    assignmentIds.add(grant.assignmentId);
  });
  return level === 'none' ? { level, reason: 'no_assignment', assignmentIds: [] } : { level, reason: 'assigned', assignmentIds: [...assignmentIds] };
}

/**
 * Every room of `rooms` the principal may reach, with its level: one pass over
 * the rooms with lookups into the principal's tables, not rooms × assignments.
 */
export function roomsWithRemoteAccess(policy: Policy, principal: Principal, rooms: readonly RoomRef[]): Map<string, 'view' | 'modify'> {
  const result = new Map<string, 'view' | 'modify'>();
  if (gate(policy, principal)) return result;
  const tables = tablesFor(policy, principal);
  if (tables.empty) return result;
  const { rankByRoom, rankByLocation, rankByTag } = tables;
  for (const room of rooms) {
    if (room.tenantId !== policy.tenantId) continue;
    let best = rankByRoom.get(room.id) ?? 0;
    for (const location of room.location) best = Math.max(best, rankByLocation.get(location) ?? 0);
    for (const tag of room.tags) best = Math.max(best, rankByTag.get(tag) ?? 0);
    if (best > 0) result.set(room.id, best === 2 ? 'modify' : 'view');
  }
  return result;
}

/**
 * Rule 3: Global Administrators and holders of the built-in Pro Manager role.
 * Managing roles is deliberately not a permission a custom role can carry.
 */
export function canManageRoles(policy: Policy, principal: Principal): boolean {
  if (principal.tenantId !== policy.tenantId) return false;
  if (principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR)) return true;
  return policy.assignments.some((assignment) => assignment.roleId === PRO_MANAGER_ROLE_ID && includesPrincipal(assignment, principal));
}

/** A scope to hand out, resolved: the rooms it names, each named location's path, and its tags. */
export interface ScopeToAssign {
  rooms: readonly RoomRef[];
  locationPaths: readonly (readonly string[])[];
  tags: readonly string[];
}

/**
 * Rule 3 with its limit: whether the principal may put this scope in an
 * assignment. A Global Administrator, or a Pro Manager assigned tenant-wide,
 * may hand out anything; a Pro Manager assigned to some rooms, locations or
 * tags only scopes that fall wholly inside theirs — never a tenant-wide one.
 */
export function canAssignScope(policy: Policy, principal: Principal, scope: ScopeToAssign): boolean {
  if (!canManageRoles(policy, principal)) return false;
  if (principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR)) return true;
  const mine = policy.assignments.filter((assignment) => assignment.roleId === PRO_MANAGER_ROLE_ID && includesPrincipal(assignment, principal));
  if (mine.some((assignment) => !hasScope(assignment))) return true;
  if (scope.rooms.length === 0 && scope.locationPaths.length === 0 && scope.tags.length === 0) return false;
  return (
    scope.rooms.every((room) => mine.some((assignment) => scopesRoom(assignment, room))) &&
    scope.locationPaths.every((path) => mine.some((assignment) => assignment.locations.some((location) => path.includes(location)))) &&
    scope.tags.every((tag) => mine.some((assignment) => assignment.tags.includes(tag)))
  );
}

/**
 * Portal permissions. An assignment without any room, location or tag covers
 * the whole tenant for portal permissions; with a scope, only those rooms.
 * Without a room, the question is whether the principal holds the
 * permission tenant-wide: a scoped holder may act only on what its scope
 * names. Global Administrators hold every portal permission. Remote-access
 * permissions go through `remoteAccessLevel`: nothing but a scoped custom
 * role grants them (rule 4), so none is ever held tenant-wide.
 */
export function can(policy: Policy, principal: Principal, permission: Permission, room?: RoomRef): boolean {
  if (permission === 'remoteAccess.view' || permission === 'remoteAccess.modify') {
    if (!room) return false;
    const needed: Level = permission === 'remoteAccess.modify' ? 'modify' : 'view';
    return rank[remoteAccessLevel(policy, principal, room).level] >= rank[needed];
  }
  if (principal.tenantId !== policy.tenantId || (room && room.tenantId !== policy.tenantId)) return false;
  if (principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR)) return true;
  return holdingAssignments(policy, principal, permission).some((assignment) => !hasScope(assignment) || (room !== undefined && scopesRoom(assignment, room)));
}

/**
 * Whether the principal holds a permission on anything at all: what decides
 * whether the console shows a part of the portal. Acting still asks `can`
 * about each room, or `canInLocation`.
 */
export function holdsAnywhere(policy: Policy, principal: Principal, permission: Permission): boolean {
  if (permission === 'remoteAccess.view' || permission === 'remoteAccess.modify') {
    if (gate(policy, principal)) return false;
    const needed = rank[permission === 'remoteAccess.modify' ? 'modify' : 'view'];
    const { byRoom, byLocation, byTag } = tablesFor(policy, principal);
    return [byRoom, byLocation, byTag].some((table) => [...table.values()].some((grants) => grants.some((grant) => rank[grant.level] >= needed)));
  }
  if (principal.tenantId !== policy.tenantId) return false;
  return principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR) || holdingAssignments(policy, principal, permission).length > 0;
}

/**
 * A portal permission inside a location (`path`: the location's ids from the
 * region down to itself): held tenant-wide, or through an assignment scoped
 * to the location or one above it. Room and tag scopes reach no location.
 */
export function canInLocation(policy: Policy, principal: Principal, permission: PortalPermission, path: readonly string[]): boolean {
  if (can(policy, principal, permission)) return true;
  if (principal.tenantId !== policy.tenantId) return false;
  return holdingAssignments(policy, principal, permission).some((assignment) => assignment.locations.some((location) => path.includes(location)));
}

function holdingAssignments(policy: Policy, principal: Principal, permission: PortalPermission): Assignment[] {
  const { roles } = compile(policy);
  return policy.assignments.filter((assignment) => roles.get(assignment.roleId)?.permissions.includes(permission) && includesPrincipal(assignment, principal));
}
