import { RoomHistory, RoomHistoryQuery, RoomId } from '@roomlink/shared';
import { z } from 'zod';
import { ApiFailure } from '../../errors';
import { HISTORY_RETENTION_DAYS } from '../../monitoring/room-monitor';
import { route } from '../route';
import { visibleRoom, type Services } from '../services';

const RoomParams = z.strictObject({ roomId: RoomId });

/** A room's health over time: what the timeline charts draw. */
export function monitoringRoutes(services: Services) {
  return [
    route({
      method: 'GET',
      url: '/api/rooms/:roomId/history',
      summary: 'The room’s presence, call, signal and health changes in a window (up to 180 days), with the state at its start',
      params: RoomParams,
      query: RoomHistoryQuery,
      response: RoomHistory,
      handler: ({ caller, params, query }) => {
        const room = visibleRoom(services, caller, params.roomId);
        const to = query.to ?? services.now().toISOString();
        if (query.from >= to) throw new ApiFailure('bad_request', ['from must be before to.']);
        if (Date.parse(to) - Date.parse(query.from) > HISTORY_RETENTION_DAYS * 86_400_000) throw new ApiFailure('bad_request', [`The window is at most ${HISTORY_RETENTION_DAYS} days.`]);
        return services.monitor.history(caller.principal.tenantId, room.id, query.from, to, query.step ?? null);
      },
    }),
  ];
}
