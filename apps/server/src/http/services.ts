import { can, canManageRoles, holdsAnywhere, roomsWithRemoteAccess, type Permission } from '@roomlink/rbac';
import { roomHealth, type LocationRef, type Room } from '@roomlink/shared';
import type { AuditLog } from '../audit/log';
import type { Caller } from '../auth/tokens';
import { ApiFailure } from '../errors';
import type { Switchboard } from '../cluster/switchboard';
import type { AgentHub } from '../hub/agents';
import type { ServerKeys } from '../keys';
import type { SessionBroker } from '../sessions/broker';
import type { SessionHistory } from '../sessions/history';
import type { RateLimiter } from '../sessions/rate-limit';
import type { Directory, RoomRecord } from '../store/directory';
import type { Store } from '../store/engine';
import type { LogBundles } from '../store/log-bundles';
import type { Incidents } from '../monitoring/incidents';
import type { RoomMonitor } from '../monitoring/room-monitor';

/** Everything a route handler may use. */
export interface Services {
  store: Store;
  directory: Directory;
  audit: AuditLog;
  broker: SessionBroker;
  sessions: SessionHistory;
  agents: AgentHub;
  /** Agents and consoles on whichever node holds them. */
  links: Switchboard;
  keys: ServerKeys;
  enrollLimiter: RateLimiter;
  logBundles: LogBundles;
  monitor: RoomMonitor;
  incidents: Incidents;
  now: () => Date;
}

export const roomRef = (room: RoomRecord) => ({ id: room.id, tenantId: room.tenantId, location: room.locationPath, tags: room.tags });

export async function requirePermission(services: Services, caller: Caller, permission: Permission, room?: RoomRecord): Promise<void> {
  if (!can(await services.directory.policy(caller.principal.tenantId), caller.principal, permission, room && roomRef(room))) throw new ApiFailure('not_permitted');
}

/**
 * Where the caller may read the audit: the whole tenant (null), or only the
 * records of the rooms their scoped `audit.read` reaches, which never
 * include the tenant's own records (settings, roles).
 */
export async function auditScope(services: Services, caller: Caller): Promise<string[] | null> {
  if (!holdsAnywhere(await services.directory.policy(caller.principal.tenantId), caller.principal, 'audit.read')) throw new ApiFailure('not_permitted');
  return roomScope(services, caller, 'audit.read');
}

/** The rooms where the caller holds `permission`: null for the whole tenant, else their ids (perhaps none). */
export async function roomScope(services: Services, caller: Caller, permission: Permission): Promise<string[] | null> {
  const policy = await services.directory.policy(caller.principal.tenantId);
  if (can(policy, caller.principal, permission)) return null;
  return (await services.directory.rooms(caller.principal.tenantId))
    .filter((room) => can(policy, caller.principal, permission, roomRef(room)))
    .map((room) => room.id);
}

export async function requireRoleManager(services: Services, caller: Caller): Promise<void> {
  if (!canManageRoles(await services.directory.policy(caller.principal.tenantId), caller.principal)) throw new ApiFailure('not_permitted');
}

/** A room as the API shows it to one caller: live state from the hub, the caller's level from rbac. */
/** The tenant's locations as rooms' paths name them, by id: built once per answer, shared by every room in it. */
export async function locationRefs(services: Services, tenantId: string): Promise<Map<string, LocationRef>> {
  return new Map((await services.directory.locations(tenantId)).map(({ id, name }) => [id as string, { id, name }]));
}

export function roomView(services: Services, room: RoomRecord, level: Room['remoteAccess'], locations: Map<string, LocationRef>): Room {
  // In a cluster the room's agent may be on another node: what the monitor wrote when it came and went says.
  const online = services.agents.online(room.id) || (services.links.clustered && room.online);
  const lastSeen = services.agents.lastSeen(room.id);
  return {
    id: room.id as Room['id'],
    name: room.name,
    locationId: room.locationId as Room['locationId'],
    locationPath: room.locationPath.flatMap((id) => locations.get(id) ?? []),
    tags: room.tags,
    platform: room.platform,
    license: room.license,
    enrolled: room.agentPublicKey !== null,
    online,
    monitored: room.license === 'pro' && room.agentPublicKey !== null,
    inCall: online && room.inCall,
    health: roomHealth(online, room.signals),
    signals: room.signals,
    displays: room.displays,
    lastSeenAt: lastSeen ? new Date(lastSeen).toISOString() : room.lastSeenAt,
    remoteAccess: level,
    updatedAt: room.updatedAt,
  };
}

/** The room as the caller sees it; `room_not_found` when it does not exist or the caller may not see it (no read, no remote access). */
export async function visibleRoom(services: Services, caller: Caller, roomId: string): Promise<Room> {
  const tenantId = caller.principal.tenantId;
  const room = await services.directory.room(tenantId, roomId);
  if (!room) throw new ApiFailure('room_not_found');
  const policy = await services.directory.policy(tenantId);
  const level = roomsWithRemoteAccess(policy, caller.principal, [roomRef(room)]).get(room.id) ?? 'none';
  if (level === 'none' && !can(policy, caller.principal, 'rooms.read', roomRef(room))) throw new ApiFailure('room_not_found');
  return roomView(services, room, level, await locationRefs(services, tenantId));
}
