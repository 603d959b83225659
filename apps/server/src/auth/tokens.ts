import { request } from 'node:https';
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload } from 'jose';
import { GLOBAL_ADMINISTRATOR, type Principal } from '@roomlink/rbac';

export interface AuthConfig {
  issuer: string;
  audience: string;
  /** JWKS location; defaults to `${issuer}/jwks` (the dev provider's). Entra: `https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys`. */
  jwksUri?: string;
  /** Accepted `typ` header values. Entra access tokens say `JWT`; oidc-provider's say `at+jwt`. */
  acceptedTypes: string[];
  /** The claim holding group ids (Entra: `groups`, object ids). */
  groupsClaim: string;
  /** Extra CA (PEM) to trust for the JWKS fetch: the dev provider's self-signed CA. */
  caPem?: string;
}

/** Entra directory-role template ids (the `wids` claim) that Roomlink maps to its own names. */
const directoryRoleIds: Record<string, string> = { '62e90394-69f5-4237-9190-012177145e10': GLOBAL_ADMINISTRATOR };

export interface Caller {
  principal: Principal;
  name: string;
  username: string;
  /** When the token stops being valid, in ms since the epoch. */
  expiresAt: number;
}

export class AuthError extends Error {}

/** A fetch over node:https that trusts an extra CA, for jose's JWKS retrieval. */
function fetchTrusting(caPem: string): typeof fetch {
  return (input, init) =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const req = request(url, { method: init?.method ?? 'GET', ca: caPem, headers: init?.headers as Record<string, string> }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: res.headers as Record<string, string> })));
      });
      req.on('error', reject);
      init?.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
      req.end();
    });
}

const stringArray = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/**
 * Validates OIDC access tokens against the issuer's JWKS: signature,
 * algorithm, issuer, audience, expiry (required), `typ`. Tenant from `tid`, user from
 * `oid` (falling back to `sub`), groups from the configured claim.
 */
export function tokenVerifier(config: AuthConfig, now: () => Date) {
  const jwks = createRemoteJWKSet(new URL(config.jwksUri ?? `${config.issuer}/jwks`), {
    ...(config.caPem && { [customFetch]: fetchTrusting(config.caPem) }),
    cooldownDuration: 30_000,
  });
  return async function verifyToken(token: string): Promise<Caller> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        typ: undefined,
        currentDate: now(),
        clockTolerance: 30,
        // A token that never expires is not one an identity provider issues for an API.
        requiredClaims: ['exp'],
      }).then((result) => {
        const typ = result.protectedHeader.typ;
        if (!typ || !config.acceptedTypes.map((t) => t.toLowerCase()).includes(typ.toLowerCase())) throw new AuthError(`token type ${typ ?? '(none)'} is not accepted`);
        return result;
      }));
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JOSEError) throw new AuthError(error.code);
      throw error;
    }
    const tid = payload.tid;
    const userId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
    if (typeof tid !== 'string' || !tid || !userId) throw new AuthError('token has no tenant or user');
    return {
      principal: {
        tenantId: tid,
        userId,
        groups: stringArray(payload[config.groupsClaim]),
        directoryRoles: stringArray(payload.wids).map((id) => directoryRoleIds[id] ?? id),
      },
      name: typeof payload.name === 'string' ? payload.name : userId,
      username: typeof payload.preferred_username === 'string' ? payload.preferred_username : typeof payload.email === 'string' ? payload.email : userId,
      expiresAt: (payload.exp ?? 0) * 1000,
    };
  };
}

export type TokenVerifier = ReturnType<typeof tokenVerifier>;
