import { z } from 'zod';
import { SessionLevel } from '../domain';
import { GrantId, RoomId, SessionId, TenantId, UserId } from '../ids';

/** How long a grant may be used to set a session up (rule 6). */
export const GRANT_TTL_SECONDS = 60;
export const GRANT_ISSUER = 'roomlink-server';
export const GRANT_AUDIENCE = 'roomlink-agent';

/** The claims of a session grant, a compact JWS signed with the server's Ed25519 key. */
export const GrantClaims = z.strictObject({
  iss: z.literal(GRANT_ISSUER),
  aud: z.literal(GRANT_AUDIENCE),
  jti: GrantId,
  sid: SessionId,
  tid: TenantId,
  rid: RoomId,
  sub: UserId,
  lvl: SessionLevel,
  /** Pointer control: the tenant allows mouse and touch in modify sessions. */
  ptr: z.boolean(),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type GrantClaims = z.infer<typeof GrantClaims>;
