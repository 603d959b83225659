import { compactVerify, type CryptoKey, type KeyObject } from 'jose';
import { GRANT_AUDIENCE, GRANT_ISSUER, GRANT_TTL_SECONDS, GrantClaims, type SessionLevel } from '@roomlink/shared';

/** Grant ids already spent, kept across agent restarts (rule 6: single use). */
export interface GrantLedger {
  has(jti: string): boolean;
  /** Records a spent grant until it would have expired anyway. */
  add(jti: string, expiresAt: number): void;
}

export type GrantRefusal = 'grant_invalid' | 'grant_expired' | 'grant_replayed' | 'wrong_tenant' | 'wrong_room';
export type GrantCheck = { ok: true; claims: GrantClaims } | { ok: false; code: GrantRefusal };

export interface GrantExpectations {
  /** The server key pinned at enrollment. */
  serverKey: CryptoKey | KeyObject;
  roomId: string;
  tenantId: string;
  /** What the offer carrying the grant says; the grant must agree. */
  sessionId: string;
  level: SessionLevel;
  now: () => number;
  ledger: GrantLedger;
}

/** Tolerated clock difference between server and room PC. */
const SKEW_SECONDS = 5;

/**
 * Rule 6, before the agent does anything else with an offer: the signature
 * against the pinned key, then tenant, room, session and level, then expiry,
 * then single use. The grant is spent only when every check has passed.
 */
export async function checkGrant(grant: string, expect: GrantExpectations): Promise<GrantCheck> {
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(grant, expect.serverKey, { algorithms: ['EdDSA'] }));
  } catch {
    return { ok: false, code: 'grant_invalid' };
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, code: 'grant_invalid' };
  }
  const parsed = GrantClaims.safeParse(decoded);
  if (!parsed.success || parsed.data.iss !== GRANT_ISSUER || parsed.data.aud !== GRANT_AUDIENCE) return { ok: false, code: 'grant_invalid' };
  const claims = parsed.data;
  if (claims.tid !== expect.tenantId) return { ok: false, code: 'wrong_tenant' };
  if (claims.rid !== expect.roomId) return { ok: false, code: 'wrong_room' };
  if (claims.sid !== expect.sessionId || claims.lvl !== expect.level) return { ok: false, code: 'grant_invalid' };
  // The server issues 60-second grants; a longer one, however well signed, is not one of them.
  if (claims.exp - claims.iat > GRANT_TTL_SECONDS + SKEW_SECONDS || claims.exp <= claims.iat) return { ok: false, code: 'grant_invalid' };
  const nowSeconds = expect.now() / 1000;
  if (claims.exp <= nowSeconds - SKEW_SECONDS || claims.iat > nowSeconds + SKEW_SECONDS) return { ok: false, code: 'grant_expired' };
  if (expect.ledger.has(claims.jti)) return { ok: false, code: 'grant_replayed' };
  expect.ledger.add(claims.jti, (claims.exp + SKEW_SECONDS) * 1000);
  return { ok: true, claims };
}
