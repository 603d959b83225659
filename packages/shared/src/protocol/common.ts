import { z } from 'zod';
import { type RoomlinkError, roomlinkError } from '../errors';
import { SessionId } from '../ids';

/** Bumped on any incompatible change to a message; both ends refuse other versions. */
export const PROTOCOL_VERSION = 1;

/** Largest WebSocket frame or data-channel message either side accepts. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const ProtocolVersion = z.literal(PROTOCOL_VERSION);

export const IceServer = z.strictObject({
  urls: z.union([z.string().max(512), z.array(z.string().max(512)).max(8)]),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});
export type IceServer = z.infer<typeof IceServer>;
/** `relay`: media only through TURN, never a direct path. */
export const IceTransportPolicy = z.enum(['all', 'relay']);
export type IceTransportPolicy = z.infer<typeof IceTransportPolicy>;

/** What simple-peer emits on its `signal` event, restricted to what Roomlink uses. */
export const SignalData = z.discriminatedUnion('type', [
  z.strictObject({ type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(48 * 1024) }),
  z.strictObject({
    type: z.literal('candidate'),
    candidate: z.strictObject({
      candidate: z.string().max(1024),
      sdpMid: z.string().max(64).nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
  z.strictObject({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }),
]);
export type SignalData = z.infer<typeof SignalData>;

/** The body of a relayed signaling message, the same on both hubs. */
export const SessionSignalBody = { sessionId: SessionId, data: SignalData };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: RoomlinkError };

function issuesOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 8).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** Validates an already-decoded value against a schema, as a typed result. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): ParseResult<z.infer<S>> {
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: roomlinkError('bad_request', issuesOf(result.error)) };
}

/**
 * Decodes one protocol message: size limit, JSON, protocol version, then the
 * schema. Never throws, whatever the input.
 */
export function decodeMessage<S extends z.ZodType>(schema: S, raw: string): ParseResult<z.infer<S>> {
  if (raw.length > MAX_MESSAGE_BYTES) return { ok: false, error: roomlinkError('payload_too_large') };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: roomlinkError('bad_request', ['(root): not JSON']) };
  }
  if (typeof value === 'object' && value !== null && 'v' in value && value.v !== PROTOCOL_VERSION) {
    return { ok: false, error: roomlinkError('protocol_version') };
  }
  return validate(schema, value);
}

/** A message as code builds it: the protocol version is stamped on by `encodeMessage`. */
export type Unversioned<M> = M extends unknown ? Omit<M, 'v'> : never;

/** Encodes a message, stamping the protocol version. */
export function encodeMessage<M extends { type: string }>(message: M): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...message });
}
