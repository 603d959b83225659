import { can, canInLocation, GLOBAL_ADMINISTRATOR, holdsAnywhere, permissions, remoteAccessLevel, roomsWithRemoteAccess, type Policy } from '@roomlink/rbac';
import type { Kysely } from 'kysely';
import { AssignmentInput, EnrollmentCode, Location, LocationId, LocationInput, LocationPatch, Me, Principals, RemoteAccessSettings, RoleInput, RoleView, Room, RoomId, RoomInput, RoomPatch, SetPointerControl, SetRemoteAccess, Ok } from '@roomlink/shared';
import { z } from 'zod';
import { ApiFailure } from '../../errors';
import type { Caller } from '../../auth/tokens';
import type { RoomRecord } from '../../store/directory';
import type { Tables } from '../../store/schema';
import { guardRoleChange } from '../role-guard';
import { route } from '../route';
import { requirePermission, requireRoleManager, locationRefs, roomRef, roomView, visibleRoom, type Services } from '../services';

const RoomParams = z.strictObject({ roomId: RoomId });
const RoleParams = z.strictObject({ roleId: z.string().min(1).max(128) });
const LocationParams = z.strictObject({ locationId: LocationId });
const BuiltInAssignments = z.strictObject({ assignments: z.array(AssignmentInput).max(100) });

export function directoryRoutes(services: Services) {
  const { directory, audit, store } = services;
  const actor = (caller: { principal: { userId: string }; name: string }) => ({ actorId: caller.principal.userId, actorName: caller.name });
  /**
   * A change, its audit record and the tenant's new policy version (every
   * node reads the policy again) are written together or not at all. Once
   * written, the caller's tenant's live sessions are decided again (rule 14):
   * whatever the change was, a session it no longer permits ends, and one it
   * permits keeps its level (re-deciding never raises one).
   */
  const audited = async <T>(caller: Caller, write: (trx: Kysely<Tables>) => Promise<T>): Promise<T> => {
    const result = await store.db.transaction().execute(async (trx) => {
      const written = await write(trx);
      await directory.policyChanged(caller.principal.tenantId, trx);
      return written;
    });
    await services.broker.reevaluate(caller.principal.tenantId);
    return result;
  };

  /** A location the caller manages rooms in, where it is now. */
  const managedLocation = async (caller: Caller, locationId: string) => {
    const tenantId = caller.principal.tenantId;
    const policy = await directory.policy(tenantId);
    const current = await directory.location(tenantId, locationId);
    if (!current) throw new ApiFailure('bad_request', ['The location does not exist.']);
    if (!canInLocation(policy, caller.principal, 'rooms.manage', await directory.locationPath(tenantId, current.id))) throw new ApiFailure('not_permitted');
    return { tenantId, policy, current };
  };

  return [
    route({
      method: 'GET',
      url: '/api/me',
      summary: 'The signed-in user, tenant and what they may do',
      response: Me,
      handler: async ({ caller }) => {
        const policy = await directory.policy(caller.principal.tenantId);
        return {
          userId: caller.principal.userId,
          name: caller.name,
          username: caller.username,
          tenantId: caller.principal.tenantId,
          canManageRoles: await requireOk(() => requireRoleManager(services, caller)),
          isGlobalAdministrator: caller.principal.directoryRoles.includes(GLOBAL_ADMINISTRATOR),
          permissions: permissions.filter((p) => holdsAnywhere(policy, caller.principal, p)),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/api/settings/remote-access',
      summary: 'Whether remote access is on for the tenant, and who changed it',
      response: RemoteAccessSettings,
      handler: ({ caller }) => directory.remoteAccess(caller.principal.tenantId),
    }),
    route({
      method: 'PUT',
      url: '/api/settings/remote-access',
      summary: 'Turn remote access on (with the acknowledging admin’s email) or off',
      body: SetRemoteAccess,
      response: RemoteAccessSettings,
      handler: async ({ caller, body }) => {
        await requirePermission(services, caller, 'settings.manage');
        const tenantId = caller.principal.tenantId;
        return audited(caller, async (trx) => {
          const email = body.enabled ? body.acknowledgingEmail : null;
          const settings = await directory.setRemoteAccess(tenantId, body.enabled, email, caller.name, trx);
          await audit.append(trx, { tenantId, type: body.enabled ? 'remoteAccess.enabled' : 'remoteAccess.disabled', ...actor(caller), data: body.enabled ? { acknowledgingEmail: email } : {} });
          return settings;
        });
      },
    }),
    route({
      method: 'PUT',
      url: '/api/settings/pointer-control',
      summary: 'Let modify sessions drive the room’s pointer with mouse and touch (sessions started afterwards), or stop it (live sessions too, at once)',
      body: SetPointerControl,
      response: RemoteAccessSettings,
      handler: async ({ caller, body }) => {
        await requirePermission(services, caller, 'settings.manage');
        const tenantId = caller.principal.tenantId;
        return audited(caller, async (trx) => {
          const settings = await directory.setPointerControl(tenantId, body.enabled, trx);
          await audit.append(trx, { tenantId, type: body.enabled ? 'pointerControl.enabled' : 'pointerControl.disabled', ...actor(caller) });
          return settings;
        });
      },
    }),
    route({
      method: 'GET',
      url: '/api/roles',
      summary: 'Built-in and custom roles with their assignments',
      response: z.array(RoleView),
      handler: ({ caller }) => directory.roles(caller.principal.tenantId),
    }),
    route({
      method: 'POST',
      url: '/api/roles',
      summary: 'Create a custom role (Global Administrators and Pro Managers only)',
      body: RoleInput,
      response: RoleView,
      status: 201,
      handler: async ({ caller, body }) => {
        await guardRoleChange(services, caller, null, body);
        return audited(caller, async (trx) => {
          const role = await directory.createRole(caller.principal.tenantId, body, trx);
          await audit.append(trx, { tenantId: caller.principal.tenantId, type: 'role.created', ...actor(caller), data: { role } });
          return role;
        });
      },
    }),
    route({
      method: 'PUT',
      url: '/api/roles/:roleId',
      summary: 'Replace a custom role and its assignments',
      params: RoleParams,
      body: RoleInput,
      response: RoleView,
      handler: async ({ caller, params, body }) => {
        await guardRoleChange(services, caller, params.roleId, body);
        return audited(caller, async (trx) => {
          const before = await directory.role(caller.principal.tenantId, params.roleId, trx);
          const role = await directory.updateRole(caller.principal.tenantId, params.roleId, body, trx);
          await audit.append(trx, { tenantId: caller.principal.tenantId, type: 'role.updated', ...actor(caller), data: { before, after: role } });
          return role;
        });
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/roles/:roleId',
      summary: 'Delete a custom role and its assignments',
      params: RoleParams,
      response: RoleView,
      handler: async ({ caller, params }) => {
        await guardRoleChange(services, caller, params.roleId, null);
        return audited(caller, async (trx) => {
          const role = await directory.deleteRole(caller.principal.tenantId, params.roleId, trx);
          await audit.append(trx, { tenantId: caller.principal.tenantId, type: 'role.deleted', ...actor(caller), data: { role } });
          return role;
        });
      },
    }),
    route({
      method: 'PUT',
      url: '/api/roles/:roleId/assignments',
      summary: 'Assign a built-in role (Pro Manager: Global Administrators only) to users and groups, tenant-wide or scoped',
      params: RoleParams,
      body: BuiltInAssignments,
      response: RoleView,
      handler: async ({ caller, params, body }) => {
        const tenantId = caller.principal.tenantId;
        const before = await directory.role(tenantId, params.roleId);
        if (!before) throw new ApiFailure('bad_request', ['No such role.']);
        await guardRoleChange(services, caller, params.roleId, { permissions: before.permissions, assignments: body.assignments });
        return audited(caller, async (trx) => {
          const role = await directory.assignBuiltIn(tenantId, params.roleId, body.assignments, trx);
          await audit.append(trx, { tenantId, type: 'role.updated', ...actor(caller), data: { before, after: role } });
          return role;
        });
      },
    }),
    route({
      method: 'GET',
      url: '/api/locations',
      summary: 'Regions, buildings and floors',
      response: z.array(Location),
      handler: ({ caller }) => directory.locations(caller.principal.tenantId),
    }),
    route({
      method: 'POST',
      url: '/api/locations',
      summary: 'Create a region, building or floor',
      body: LocationInput,
      response: Location,
      status: 201,
      handler: async ({ caller, body }) => {
        const tenantId = caller.principal.tenantId;
        // A scoped manager adds buildings and floors inside its scope; a new region needs tenant-wide rights.
        if (!canInLocation(await directory.policy(tenantId), caller.principal, 'rooms.manage', body.parentId ? await directory.locationPath(tenantId, body.parentId) : [])) throw new ApiFailure('not_permitted');
        return audited(caller, async (trx) => {
          const location = await directory.createLocation(tenantId, body, trx);
          await audit.append(trx, { tenantId, type: 'location.created', ...actor(caller), data: { location } });
          return location;
        });
      },
    }),
    route({
      method: 'PATCH',
      url: '/api/locations/:locationId',
      summary: 'Rename a location, or move it (with its rooms) under another parent of the right kind',
      params: LocationParams,
      body: LocationPatch,
      response: Location,
      handler: async ({ caller, params, body }) => {
        const { tenantId, policy, current } = await managedLocation(caller, params.locationId);
        if (body.parentId !== undefined && body.parentId !== current.parentId) {
          const parentPath = await directory.locationPath(tenantId, body.parentId);
          // Where it goes, the mover must already manage: holding the location itself does not carry it anywhere.
          if (!canInLocation(policy, caller.principal, 'rooms.manage', parentPath)) throw new ApiFailure('not_permitted');
          // Every room beneath moves with it: each must stay within what the mover may reach (rule 4).
          for (const room of await directory.roomsUnder(tenantId, current.id)) {
            const below = room.locationPath.slice(room.locationPath.indexOf(current.id));
            requireNoWidening(policy, caller, room, { location: [...parentPath, ...below] });
          }
        }
        return audited(caller, async (trx) => {
          const location = await directory.updateLocation(tenantId, current.id, body, trx);
          await audit.append(trx, { tenantId, type: 'location.updated', ...actor(caller), data: { before: current, after: location } });
          return location;
        });
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/locations/:locationId',
      summary: 'Delete a location that holds no location or room and that no role names',
      params: LocationParams,
      response: Location,
      handler: async ({ caller, params }) => {
        const { tenantId, current } = await managedLocation(caller, params.locationId);
        return audited(caller, async (trx) => {
          const location = await directory.deleteLocation(tenantId, current.id, trx);
          await audit.append(trx, { tenantId, type: 'location.deleted', ...actor(caller), data: { location } });
          return location;
        });
      },
    }),
    route({
      method: 'GET',
      url: '/api/principals',
      summary: 'Users who have signed in and the groups their tokens carried (for role assignments)',
      response: Principals,
      handler: async ({ caller }) => {
        await requireRoleManager(services, caller);
        return directory.principals(caller.principal.tenantId);
      },
    }),
    route({
      method: 'GET',
      url: '/api/rooms',
      summary: 'Rooms the caller may see, with health, presence and the caller’s remote-access level',
      response: z.array(Room),
      handler: async ({ caller }) => {
        const tenantId = caller.principal.tenantId;
        const policy = await directory.policy(tenantId);
        const rooms = await directory.rooms(tenantId);
        const levels = roomsWithRemoteAccess(policy, caller.principal, rooms.map(roomRef));
        const locations = await locationRefs(services, tenantId);
        return rooms.filter((room) => levels.has(room.id) || can(policy, caller.principal, 'rooms.read', roomRef(room))).map((room) => roomView(services, room, levels.get(room.id) ?? 'none', locations));
      },
    }),
    route({
      method: 'POST',
      url: '/api/rooms',
      summary: 'Create a room',
      body: RoomInput,
      response: Room,
      status: 201,
      handler: async ({ caller, body }) => {
        const tenantId = caller.principal.tenantId;
        // The room must fall inside the caller's scope once it exists, as if it were already there.
        const planned = { id: '', tenantId, location: await directory.locationPath(tenantId, body.locationId ?? null), tags: body.tags ?? [] };
        if (!can(await directory.policy(tenantId), caller.principal, 'rooms.manage', planned)) throw new ApiFailure('not_permitted');
        const room = await audited(caller, async (trx) => {
          const created = await directory.createRoom(tenantId, body, trx);
          await audit.append(trx, { tenantId, type: 'room.created', ...actor(caller), roomId: created.id, roomName: created.name, data: { body } });
          return created;
        });
        return roomView(services, room, 'none', await locationRefs(services, tenantId));
      },
    }),
    route({
      method: 'GET',
      url: '/api/rooms/:roomId',
      summary: 'One room',
      params: RoomParams,
      response: Room,
      handler: ({ caller, params }) => visibleRoom(services, caller, params.roomId),
    }),
    route({
      method: 'PATCH',
      url: '/api/rooms/:roomId',
      summary: 'Rename, move, retag or relicense a room',
      params: RoomParams,
      body: RoomPatch,
      response: Room,
      handler: async ({ caller, params, body }) => {
        const tenantId = caller.principal.tenantId;
        const current = await directory.room(tenantId, params.roomId);
        if (!current) throw new ApiFailure('room_not_found');
        await requirePermission(services, caller, 'rooms.manage', current);
        requireNoWidening(await directory.policy(tenantId), caller, current, {
          location: body.locationId === undefined ? current.locationPath : await directory.locationPath(tenantId, body.locationId),
          tags: body.tags,
          license: body.license,
        });
        await audited(caller, async (trx) => {
          const room = await directory.updateRoom(tenantId, params.roomId, body, trx);
          await audit.append(trx, { tenantId, type: 'room.updated', ...actor(caller), roomId: room.id, roomName: room.name, data: { before: { name: current.name, locationId: current.locationId, tags: current.tags, license: current.license }, patch: body } });
        });
        return visibleRoom(services, caller, params.roomId);
      },
    }),
    route({
      method: 'POST',
      url: '/api/rooms/:roomId/restart',
      summary: 'Restart the room’s PC now (not during a call or a session)',
      params: RoomParams,
      response: Ok,
      status: 202,
      handler: async ({ caller, params }) => {
        const tenantId = caller.principal.tenantId;
        const room = await directory.room(tenantId, params.roomId);
        if (!room) throw new ApiFailure('room_not_found');
        await requirePermission(services, caller, 'rooms.manage', room);
        if (!(await services.links.agentOnline(room.id))) throw new ApiFailure('room_offline');
        // A restart in the middle of a meeting, or under a technician's session, is what nobody in the room wants.
        if (room.inCall) throw new ApiFailure('room_in_call');
        if (await services.broker.activeInRoom(room.id)) throw new ApiFailure('room_busy');
        await audit.record({ tenantId, type: 'room.restartRequested', ...actor(caller), roomId: room.id, roomName: room.name });
        await services.links.sendToAgent(room.id, { type: 'device.action', action: 'restart' });
        return { ok: true as const };
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/rooms/:roomId',
      summary: 'Retire a room: it leaves the directory and its device is disconnected; its audit history stays',
      params: RoomParams,
      response: Ok,
      handler: async ({ caller, params }) => {
        const room = await manageableIdleRoom(services, caller, params.roomId);
        await audited(caller, async (trx) => {
          const rolesChanged = await directory.retireRoom(room.tenantId, room.id, trx);
          await audit.append(trx, { tenantId: room.tenantId, type: 'room.retired', ...actor(caller), roomId: room.id, roomName: room.name, data: { before: { name: room.name, locationId: room.locationId, tags: room.tags, license: room.license }, rolesChanged } });
        });
        await services.links.disconnectAgent(room.id);
        services.monitor.forget(room.id);
        // Nothing will resolve them any more: they close with the room.
        for (const incident of await services.incidents.list(room.tenantId, { state: 'open', roomId: room.id }, null)) {
          await services.incidents.change(incident.id, 'resolved', { id: caller.principal.userId, name: caller.name }, { text: 'The room was retired.' });
        }
        return { ok: true as const };
      },
    }),
    route({
      method: 'DELETE',
      url: '/api/rooms/:roomId/enrollment',
      summary: 'Revoke the room’s device: its key stops proving the room until it is enrolled again with a new code',
      params: RoomParams,
      response: Room,
      handler: async ({ caller, params }) => {
        const room = await manageableIdleRoom(services, caller, params.roomId);
        await audited(caller, async (trx) => {
          await directory.revokeDevice(room.tenantId, room.id, trx);
          await audit.append(trx, { tenantId: room.tenantId, type: 'room.deviceRevoked', ...actor(caller), roomId: room.id, roomName: room.name, data: { enrolledAt: room.enrolledAt } });
        });
        await services.links.disconnectAgent(room.id);
        return visibleRoom(services, caller, room.id);
      },
    }),
    route({
      method: 'POST',
      url: '/api/rooms/:roomId/enrollment-code',
      summary: 'A one-time code that enrolls an agent into this room (24 h)',
      params: RoomParams,
      response: EnrollmentCode,
      status: 201,
      handler: async ({ caller, params }) => {
        const tenantId = caller.principal.tenantId;
        const room = await directory.room(tenantId, params.roomId);
        if (!room) throw new ApiFailure('room_not_found');
        await requirePermission(services, caller, 'rooms.manage', room);
        return audited(caller, async (trx) => {
          const code = await directory.issueEnrollmentCode(tenantId, room.id, trx);
          await audit.append(trx, { tenantId, type: 'room.enrollmentCodeIssued', ...actor(caller), roomId: room.id, roomName: room.name, data: { expiresAt: code.expiresAt } });
          return code;
        });
      },
    }),
  ];
}

/**
 * Rule 4 for a room that moves (itself or with its location), is retagged
 * or relicensed: the caller must manage it where it goes as well as where it
 * is, and the change may not give the caller a remote-access level on it
 * they do not hold already.
 */
function requireNoWidening(policy: Policy, caller: Caller, current: RoomRecord, change: { location: string[]; tags?: string[] | undefined; license?: RoomRecord['license'] | undefined }): void {
  const next = { ...roomRef(current), location: change.location, tags: change.tags ?? current.tags };
  if (!can(policy, caller.principal, 'rooms.manage', next)) throw new ApiFailure('not_permitted');
  const reachable = (ref: typeof next, license: RoomRecord['license']) => (license === 'pro' ? levelRank[remoteAccessLevel(policy, caller.principal, ref).level] : 0);
  if (reachable(next, change.license ?? current.license) > reachable(roomRef(current), current.license)) throw new ApiFailure('not_permitted', ['The change would give you remote access you do not have on this room.']);
}

/** A room the caller manages and no session holds: what retiring it or revoking its device needs. */
async function manageableIdleRoom(services: Services, caller: Caller, roomId: string): Promise<RoomRecord> {
  const room = await services.directory.room(caller.principal.tenantId, roomId);
  if (!room) throw new ApiFailure('room_not_found');
  await requirePermission(services, caller, 'rooms.manage', room);
  // The technician in it would lose the room mid-task: they end the session first.
  if (await services.broker.activeInRoom(room.id)) throw new ApiFailure('room_busy');
  return room;
}

const levelRank = { none: 0, view: 1, modify: 2 } as const;

async function requireOk(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (error) {
    if (error instanceof ApiFailure) return false;
    throw error;
  }
}
