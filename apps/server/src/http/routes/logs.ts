import { LOG_BUNDLE_MAX_BYTES, LogBundle, RoomId, Ok } from '@roomlink/shared';
import { z } from 'zod';
import { ApiFailure } from '../../errors';
import type { Caller } from '../../auth/tokens';
import { route } from '../route';
import { requirePermission, type Services } from '../services';

const RoomParams = z.strictObject({ roomId: RoomId });
const BundleParams = z.strictObject({ roomId: RoomId, bundleId: z.string().min(1).max(64) });
const UploadParams = z.strictObject({ bundleId: z.string().min(1).max(64) });
const gzipMagic = Buffer.from([0x1f, 0x8b]);

/**
 * Collect logs from a room outside any session: the technician asks, the
 * room uploads one gzip bundle with a one-time token, the console downloads
 * it. Asking and receiving are audited; bundles are kept 30 days.
 */
export function logRoutes(services: Services) {
  const { directory, audit, store, logBundles } = services;
  const managedRoom = async (caller: Caller, roomId: string) => {
    const room = await directory.room(caller.principal.tenantId, roomId);
    if (!room) throw new ApiFailure('room_not_found');
    await requirePermission(services, caller, 'rooms.manage', room);
    return room;
  };

  return [
    route({
      method: 'POST',
      url: '/api/rooms/:roomId/logs',
      summary: 'Ask the room for its logs; it uploads them within 2 minutes',
      params: RoomParams,
      response: LogBundle,
      status: 202,
      handler: async ({ caller, params }) => {
        const room = await managedRoom(caller, params.roomId);
        if (!(await services.links.agentOnline(room.id))) throw new ApiFailure('room_offline');
        const { bundle, token } = await store.db.transaction().execute(async (trx) => {
          const requested = await logBundles.request(room.tenantId, room.id, caller.name, trx);
          await audit.append(trx, { tenantId: room.tenantId, type: 'room.logsRequested', actorId: caller.principal.userId, actorName: caller.name, roomId: room.id, roomName: room.name, data: { bundleId: requested.bundle.id } });
          return requested;
        });
        await services.links.sendToAgent(room.id, { type: 'device.action', action: 'collectLogs', upload: { bundleId: bundle.id, token } });
        return bundle;
      },
    }),
    route({
      method: 'GET',
      url: '/api/rooms/:roomId/logs',
      summary: 'The room’s log bundles, newest first',
      params: RoomParams,
      response: z.array(LogBundle),
      handler: async ({ caller, params }) => logBundles.list(caller.principal.tenantId, (await managedRoom(caller, params.roomId)).id),
    }),
    route({
      method: 'GET',
      url: '/api/rooms/:roomId/logs/:bundleId',
      summary: 'Download one log bundle (gzip-compressed JSON)',
      params: BundleParams,
      response: z.instanceof(Buffer),
      contentType: 'application/gzip',
      handler: async ({ caller, params, reply }) => {
        const room = await managedRoom(caller, params.roomId);
        const bundle = await logBundles.get(room.tenantId, params.bundleId);
        const content = bundle?.roomId === room.id ? await logBundles.content(room.tenantId, bundle.id) : undefined;
        if (!bundle || !content) throw new ApiFailure('bad_request', ['No such log bundle, or it has not arrived yet.']);
        reply.header('content-disposition', `attachment; filename="${room.name.replace(/[^\w.-]+/g, '_')}-${bundle.requestedAt.replace(/[:.]/g, '-')}.json.gz"`);
        return content;
      },
    }),
    route({
      method: 'POST',
      url: '/api/agent/logs/:bundleId',
      summary: 'A room uploads the log bundle it was asked for, with the one-time token it was given',
      public: true,
      params: UploadParams,
      body: z.instanceof(Buffer, { message: 'expected a gzip body (content-type application/gzip)' }),
      bodyLimit: LOG_BUNDLE_MAX_BYTES,
      response: Ok,
      handler: async ({ params, body, request }) => {
        const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!token) throw new ApiFailure('unauthenticated');
        if (!body.subarray(0, 2).equals(gzipMagic)) throw new ApiFailure('bad_request', ['The bundle is not gzip.']);
        const received = await store.db.transaction().execute(async (trx) => {
          const stored = await logBundles.receive(params.bundleId, token, body, trx);
          if (!stored) return null;
          const room = await directory.room(stored.tenantId, stored.bundle.roomId, trx);
          await audit.append(trx, { tenantId: stored.tenantId, type: 'room.logsCollected', roomId: stored.bundle.roomId, roomName: room?.name ?? null, data: { bundleId: stored.bundle.id, size: stored.bundle.size, sha256: stored.bundle.sha256 } });
          return stored;
        });
        // Wrong bundle, wrong token, too late or already sent: all the same answer.
        if (!received) throw new ApiFailure('not_permitted');
        return { ok: true as const };
      },
    }),
  ];
}
