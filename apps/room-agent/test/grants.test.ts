import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkGrant, type GrantExpectations } from '../src/core/grants';
import { FileGrantLedger } from '../src/core/ledger';

const server = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const now = Date.parse('2026-11-23T12:00:00Z');

interface Claims {
  sid: string;
  tid: string;
  rid: string;
  lvl: string;
  ptr: boolean;
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

function sign(overrides: Partial<Claims> = {}, key: KeyObject = server.privateKey): Promise<string> {
  const c: Claims = { sid: 'ses-1', tid: 'contoso', rid: 'room-1', lvl: 'view', ptr: false, sub: 'u-tech', jti: 'grant-1', iat: now / 1000, exp: now / 1000 + 60, ...overrides };
  return new SignJWT({ sid: c.sid, tid: c.tid, rid: c.rid, lvl: c.lvl, ptr: c.ptr })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer('roomlink-server')
    .setAudience('roomlink-agent')
    .setSubject(c.sub)
    .setJti(c.jti)
    .setIssuedAt(c.iat)
    .setExpirationTime(c.exp)
    .sign(key);
}

let dir: string;
let expectations: GrantExpectations;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-grants-'));
  expectations = { serverKey: server.publicKey, roomId: 'room-1', tenantId: 'contoso', sessionId: 'ses-1', level: 'view', now: () => now, ledger: new FileGrantLedger(join(dir, 'grants.json'), () => now) };
});

describe('rule 6: the agent checks a grant before anything else', () => {
  it('accepts a grant from the pinned key for this room, tenant, session and level', async () => {
    expect(await checkGrant(await sign(), expectations)).toMatchObject({ ok: true, claims: { sub: 'u-tech', lvl: 'view' } });
  });

  it('refuses a grant signed by any other key', async () => {
    expect(await checkGrant(await sign({}, attacker.privateKey), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
  });

  it('refuses a grant whose payload was edited after signing', async () => {
    const [header, payload, signature] = (await sign()).split('.');
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), lvl: 'modify' })).toString('base64url');
    expect(await checkGrant(`${header}.${edited}.${signature}`, { ...expectations, level: 'modify' })).toEqual({ ok: false, code: 'grant_invalid' });
  });

  it('refuses an unsigned grant (alg none) and garbage', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${(await sign()).split('.')[1]}.`;
    expect(await checkGrant(unsigned, expectations)).toEqual({ ok: false, code: 'grant_invalid' });
    expect(await checkGrant('not-a-grant', expectations)).toEqual({ ok: false, code: 'grant_invalid' });
  });

  it('refuses a grant for another tenant or another room', async () => {
    expect(await checkGrant(await sign({ tid: 'fabrikam' }), expectations)).toEqual({ ok: false, code: 'wrong_tenant' });
    expect(await checkGrant(await sign({ rid: 'room-2' }), expectations)).toEqual({ ok: false, code: 'wrong_room' });
  });

  it('refuses a grant that disagrees with its offer on session or level', async () => {
    expect(await checkGrant(await sign({ sid: 'ses-2' }), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
    expect(await checkGrant(await sign({ lvl: 'modify' }), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
  });

  it('refuses a validly signed grant that lives longer than the 60 s the server issues, or not at all', async () => {
    expect(await checkGrant(await sign({ exp: now / 1000 + 24 * 3600 }), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
    expect(await checkGrant(await sign({ iat: now / 1000 - 30, exp: now / 1000 + 60 }), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
    expect(await checkGrant(await sign({ exp: now / 1000 }), expectations)).toEqual({ ok: false, code: 'grant_invalid' });
    expect(await checkGrant(await sign({ iat: now / 1000 - 3, exp: now / 1000 + 62 }), expectations)).toMatchObject({ ok: true });
  });

  it('refuses an expired grant and one issued in the future', async () => {
    expect(await checkGrant(await sign({ iat: now / 1000 - 120, exp: now / 1000 - 60 }), expectations)).toEqual({ ok: false, code: 'grant_expired' });
    expect(await checkGrant(await sign({ iat: now / 1000 + 600, exp: now / 1000 + 660 }), expectations)).toEqual({ ok: false, code: 'grant_expired' });
  });

  it('refuses a replayed grant, also after the agent restarts', async () => {
    const grant = await sign();
    expect((await checkGrant(grant, expectations)).ok).toBe(true);
    expect(await checkGrant(grant, expectations)).toEqual({ ok: false, code: 'grant_replayed' });
    const restarted = { ...expectations, ledger: new FileGrantLedger(join(dir, 'grants.json'), () => now) };
    expect(await checkGrant(grant, restarted)).toEqual({ ok: false, code: 'grant_replayed' });
  });

  it('does not spend a grant that failed another check', async () => {
    const grant = await sign();
    expect((await checkGrant(grant, { ...expectations, roomId: 'room-2' })).ok).toBe(false);
    expect((await checkGrant(grant, expectations)).ok).toBe(true);
  });

  it('refuses to start on a corrupt ledger instead of forgetting spent grants', () => {
    writeFileSync(join(dir, 'grants.json'), '{"half');
    expect(() => new FileGrantLedger(join(dir, 'grants.json'))).toThrow(/corrupt/);
  });
});
