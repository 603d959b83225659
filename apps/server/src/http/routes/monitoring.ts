import { can, holdsAnywhere, roomsWithRemoteAccess, type Permission } from '@roomlink/rbac';
import { DASHBOARD_NEWEST, DashboardSummary, RoomHealth, RoomHistory, RoomHistoryQuery, RoomId } from '@roomlink/shared';
import type { Caller } from '../../auth/tokens';
import { z } from 'zod';
import { ApiFailure } from '../../errors';
import { HISTORY_RETENTION_DAYS } from '../../monitoring/room-monitor';
import { route } from '../route';
import { visibleRoom, type Services } from '../services';

const RoomParams = z.strictObject({ roomId: RoomId });

/**
 * The dashboard's numbers, in the database: a tenant-wide reader's rooms are
 * counted by an index; a scoped reader's are filtered by rbac over each
 * room's scope alone (no full rows).
 */
async function dashboard(services: Services, caller: Caller): Promise<DashboardSummary> {
  const { directory, incidents, sessions } = services;
  const { tenantId } = caller.principal;
  const policy = await directory.policy(tenantId);
  const byHealth = Object.fromEntries(RoomHealth.options.map((health) => [health, 0])) as Record<RoomHealth, number>;
  let inCall = 0;
  let scopes: Awaited<ReturnType<typeof directory.roomScopes>> | undefined;
  /** The rooms where the caller holds `permission`: null for the whole tenant. */
  const roomsWhere = async (permission: Permission) => (can(policy, caller.principal, permission) ? null : (scopes ??= await directory.roomScopes(tenantId)).filter((room) => can(policy, caller.principal, permission, room)).map((room) => room.id));
  if (can(policy, caller.principal, 'rooms.read')) {
    for (const row of await directory.roomCounts(tenantId)) {
      byHealth[row.health] = row.rooms;
      if (row.health !== 'offline') inCall += row.inCall;
    }
  } else {
    scopes ??= await directory.roomScopes(tenantId);
    const reachable = roomsWithRemoteAccess(policy, caller.principal, scopes);
    for (const room of scopes) {
      if (!reachable.has(room.id) && !can(policy, caller.principal, 'rooms.read', room)) continue;
      byHealth[room.health] += 1;
      if (room.inCall && room.health !== 'offline') inCall += 1;
    }
  }
  const readable = await roomsWhere('rooms.read');
  return {
    rooms: { total: Object.values(byHealth).reduce((a, b) => a + b, 0), byHealth, inCall },
    incidents: { open: await incidents.openCounts(tenantId, readable), newest: await incidents.list(tenantId, { state: 'open', limit: DASHBOARD_NEWEST }, readable) },
    sessionsInProgress: holdsAnywhere(policy, caller.principal, 'audit.read') ? await sessions.countActive(tenantId, await roomsWhere('audit.read')) : null,
  };
}

/** A room's health over time, and the home dashboard. */
export function monitoringRoutes(services: Services) {
  return [
    route({
      method: 'GET',
      url: '/api/dashboard',
      summary: 'The home dashboard: rooms by health and in a call, open incidents by severity with the newest, sessions in progress (audit readers)',
      response: DashboardSummary,
      handler: ({ caller }) => dashboard(services, caller),
    }),
    route({
      method: 'GET',
      url: '/api/rooms/:roomId/history',
      summary: 'The room’s presence, call, signal and health changes in a window (up to 180 days), with the state at its start',
      params: RoomParams,
      query: RoomHistoryQuery,
      response: RoomHistory,
      handler: async ({ caller, params, query }) => {
        const room = await visibleRoom(services, caller, params.roomId);
        const to = query.to ?? services.now().toISOString();
        if (query.from >= to) throw new ApiFailure('bad_request', ['from must be before to.']);
        if (Date.parse(to) - Date.parse(query.from) > HISTORY_RETENTION_DAYS * 86_400_000) throw new ApiFailure('bad_request', [`The window is at most ${HISTORY_RETENTION_DAYS} days.`]);
        return services.monitor.history(caller.principal.tenantId, room.id, query.from, to, query.step ?? null);
      },
    }),
  ];
}
