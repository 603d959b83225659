import type { WebSocket } from 'ws';
import { decodeMessage, encodeMessage, roomlinkError, type ParseResult, type Unversioned } from '@roomlink/shared';
import type { z } from 'zod';

/** Sends one message if the socket is still open; reports whether it went. */
export function sendMessage<M extends { type: string }>(ws: WebSocket, message: Unversioned<M>): boolean {
  if (ws.readyState !== ws.OPEN) return false;
  ws.send(encodeMessage(message));
  return true;
}

/** Decodes a frame; binary frames are refused like any other malformed input. */
export function decodeFrame<S extends z.ZodType>(schema: S, data: unknown, isBinary: boolean): ParseResult<z.infer<S>> {
  if (isBinary) return { ok: false, error: roomlinkError('bad_request', ['(root): binary frames are not accepted']) };
  return decodeMessage(schema, String(data));
}
