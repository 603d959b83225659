import { Incident, IncidentAssign, IncidentDetail, IncidentNote, IncidentQuery, IncidentRules } from '@roomlink/shared';
import { z } from 'zod';
import { csvCell } from '../../audit/log';
import type { Caller } from '../../auth/tokens';
import { ApiFailure } from '../../errors';
import { IncidentError, type Actor } from '../../monitoring/incidents';
import { route } from '../route';
import { requirePermission, roomScope, type Services } from '../services';

const IncidentParams = z.strictObject({ incidentId: z.string().min(1).max(64) });

/**
 * Incidents: read by anyone who may read the room, changed by whoever holds
 * `incidents.manage` for it; the tenant's rules by settings managers.
 */
export function incidentRoutes(services: Services) {
  const { directory, incidents } = services;
  const actor = (caller: Caller): Actor => ({ id: caller.principal.userId, name: caller.name });
  /** The rooms whose incidents the caller may read; null for the whole tenant. */
  const readable = (caller: Caller) => roomScope(services, caller, 'rooms.read');
  const visible = async (caller: Caller, incidentId: string): Promise<Incident> => {
    const incident = await incidents.get(caller.principal.tenantId, incidentId);
    const rooms = await readable(caller);
    if (!incident || (rooms && !rooms.includes(incident.roomId))) throw new ApiFailure('bad_request', ['No such incident.']);
    return incident;
  };
  /** One person's change, refused without incidents.manage on the incident's room. */
  const change = async (caller: Caller, incidentId: string, kind: 'acknowledged' | 'assigned' | 'note' | 'resolved', detail: { text?: string; assignee?: Actor } | null): Promise<Incident> => {
    const incident = await visible(caller, incidentId);
    const room = await directory.room(caller.principal.tenantId, incident.roomId);
    if (!room) throw new ApiFailure('room_not_found');
    await requirePermission(services, caller, 'incidents.manage', room);
    try {
      return await incidents.change(incident.id, kind, actor(caller), detail);
    } catch (error) {
      if (error instanceof IncidentError) throw new ApiFailure(error.code, [error.message]);
      throw error;
    }
  };

  return [
    route({
      method: 'GET',
      url: '/api/incidents',
      summary: 'Incidents of the rooms the caller may read, newest first, filtered by state (or open), severity, room, location and assignee',
      query: IncidentQuery,
      response: z.array(Incident),
      handler: async ({ caller, query }) => incidents.list(caller.principal.tenantId, query, await readable(caller)),
    }),
    route({
      method: 'GET',
      url: '/api/incidents.csv',
      summary: 'The same incidents as CSV',
      query: IncidentQuery,
      response: z.string(),
      contentType: 'text/csv; charset=utf-8',
      handler: async ({ caller, query, reply }) => {
        reply.header('content-disposition', 'attachment; filename="roomlink-incidents.csv"');
        const columns = ['id', 'roomName', 'cause', 'severity', 'state', 'openedAt', 'updatedAt', 'resolvedAt', 'autoResolved', 'reopened', 'assigneeName'] as const;
        const rows = (await incidents.list(caller.principal.tenantId, { ...query, limit: query.limit ?? 1000 }, await readable(caller))).map((i) => columns.map((c) => csvCell(i[c])).join(','));
        return `${[columns.join(','), ...rows].join('\r\n')}\r\n`;
      },
    }),
    route({
      method: 'GET',
      url: '/api/incidents/:incidentId',
      summary: 'One incident with its timeline (opened, acknowledged, assigned, notes, resolved, reopened)',
      params: IncidentParams,
      response: IncidentDetail,
      handler: async ({ caller, params }) => (await incidents.detail(caller.principal.tenantId, (await visible(caller, params.incidentId)).id))!,
    }),
    route({
      method: 'POST',
      url: '/api/incidents/:incidentId/acknowledge',
      summary: 'Acknowledge a detected incident: someone is on it',
      params: IncidentParams,
      response: Incident,
      handler: ({ caller, params }) => change(caller, params.incidentId, 'acknowledged', null),
    }),
    route({
      method: 'POST',
      url: '/api/incidents/:incidentId/assign',
      summary: 'Assign the incident to a person, who investigates it',
      params: IncidentParams,
      body: IncidentAssign,
      response: Incident,
      handler: ({ caller, params, body }) => change(caller, params.incidentId, 'assigned', { assignee: { id: body.userId, name: body.name } }),
    }),
    route({
      method: 'POST',
      url: '/api/incidents/:incidentId/notes',
      summary: 'Add a note to the incident’s timeline (up to 4,000 characters)',
      params: IncidentParams,
      body: IncidentNote,
      response: Incident,
      handler: ({ caller, params, body }) => change(caller, params.incidentId, 'note', { text: body.text }),
    }),
    route({
      method: 'POST',
      url: '/api/incidents/:incidentId/resolve',
      summary: 'Resolve the incident by hand',
      params: IncidentParams,
      response: Incident,
      handler: ({ caller, params }) => change(caller, params.incidentId, 'resolved', null),
    }),
    route({
      method: 'GET',
      url: '/api/settings/incident-rules',
      summary: 'The tenant’s incident rules (the defaults until changed)',
      response: IncidentRules,
      handler: ({ caller }) => incidents.rules(caller.principal.tenantId),
    }),
    route({
      method: 'PUT',
      url: '/api/settings/incident-rules',
      summary: 'Tune the tenant’s incident rules; audited with before and after',
      body: IncidentRules,
      response: IncidentRules,
      handler: async ({ caller, body }) => {
        await requirePermission(services, caller, 'settings.manage');
        return incidents.setRules(caller.principal.tenantId, body, actor(caller));
      },
    }),
  ];
}
