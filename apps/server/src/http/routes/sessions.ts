import { Readable } from 'node:stream';
import { AuditExportQuery, AuditPage, AuditQuery, AuditVerification, EnrollRequest, EnrollResponse, SessionId, SessionStarted, SessionView, StartSession, Ok } from '@roomlink/shared';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { auditCsvLines } from '../../audit/log';
import { ApiFailure } from '../../errors';
import { KeyedQueue } from '../../sessions/rate-limit';
import { route } from '../route';
import { auditScope, requirePermission, type Services } from '../services';

const clip = (value: unknown, max: number) => (typeof value === 'string' ? value.replace(/[^\x20-\x7e]/g, '').slice(0, max) : '');

/** Which console a session came from, for the audit (rule 12). */
function consoleDevice(request: FastifyRequest) {
  return { name: clip(request.headers['x-roomlink-device'], 64) || 'unknown', userAgent: clip(request.headers['user-agent'], 256), address: request.ip };
}

export function sessionRoutes(services: Services) {
  const { broker, audit, directory } = services;
  const enrollments = new KeyedQueue();
  return [
    route({
      method: 'POST',
      url: '/api/sessions',
      summary: 'Start a remote session with a room (rule 5), or get the refusal’s code',
      body: StartSession,
      response: SessionStarted,
      status: 201,
      handler: ({ caller, body, request }) => broker.start(caller, body.roomId, consoleDevice(request)),
    }),
    route({
      method: 'POST',
      url: '/api/sessions/:sessionId/end',
      summary: 'End one of the caller’s sessions',
      params: z.strictObject({ sessionId: SessionId }),
      response: Ok,
      handler: async ({ caller, params }) => {
        await broker.endByUser(caller.principal, params.sessionId);
        return { ok: true as const };
      },
    }),
    route({
      method: 'GET',
      url: '/api/sessions',
      summary: 'Recent sessions of the tenant (active ones with ?active=true)',
      query: z.strictObject({ active: z.enum(['true', 'false']).optional() }),
      response: z.array(SessionView),
      handler: async ({ caller, query }) => {
        return services.sessions.list(caller.principal.tenantId, query.active === 'true', await auditScope(services, caller));
      },
    }),
    route({
      method: 'GET',
      url: '/api/audit',
      summary: 'Audit records, newest first, paged with `before`',
      query: AuditQuery,
      response: AuditPage,
      handler: async ({ caller, query }) => {
        return audit.query(caller.principal.tenantId, query, await auditScope(services, caller));
      },
    }),
    route({
      method: 'GET',
      url: '/api/audit.csv',
      summary: 'Every record that matches the filters, as CSV, streamed',
      query: AuditExportQuery,
      response: z.instanceof(Readable),
      contentType: 'text/csv; charset=utf-8',
      handler: async ({ caller, query, reply }) => {
        const rooms = await auditScope(services, caller);
        reply.header('content-disposition', 'attachment; filename="roomlink-audit.csv"');
        return Readable.from(auditCsvLines(audit.all(caller.principal.tenantId, query, rooms)));
      },
    }),
    route({
      method: 'GET',
      url: '/api/audit/verify',
      summary: 'Walk the tenant’s hash chain (tenant-wide audit readers only)',
      response: AuditVerification,
      handler: async ({ caller }) => {
        await requirePermission(services, caller, 'audit.read');
        return audit.verify(caller.principal.tenantId);
      },
    }),
    route({
      method: 'POST',
      url: '/api/agent/enroll',
      summary: 'An agent trades a one-time code and its public key for its room and the grant-signing key',
      public: true,
      body: EnrollRequest,
      response: EnrollResponse,
      handler: async ({ body, request }) => {
        // Only wrong codes are counted: they are what guessing looks like, and a site enrolling many rooms at once is not.
        // One address's attempts run one at a time, so guesses sent at once are each counted before the next is judged.
        const room = await enrollments.run(request.ip, async () => {
          if (!services.enrollLimiter.allows(request.ip)) throw new ApiFailure('rate_limited');
          try {
            return await services.store.db.transaction().execute(async (trx) => {
              const enrolled = await directory.enroll(body.code, body.publicKey, body.platform, trx);
              await audit.append(trx, { tenantId: enrolled.tenantId, type: 'room.enrolled', roomId: enrolled.id, roomName: enrolled.name, data: { platform: body.platform, agentVersion: body.agentVersion, address: request.ip } });
              return enrolled;
            });
          } catch (error) {
            services.enrollLimiter.take(request.ip);
            throw error;
          }
        });
        // A re-enrolled room's old connection proved a key that is no longer the room's.
        await services.links.disconnectAgent(room.id);
        return { roomId: room.id as never, tenantId: room.tenantId as never, roomName: room.name, grantPublicKey: services.keys.publicKeyRaw };
      },
    }),
  ];
}
