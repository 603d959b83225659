import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { ADMIN, grantAccess, OUTSIDER, startHarness, TECH, VIEWER, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('authentication', () => {
  it('answers /healthz and /openapi.json without a token', async () => {
    expect((await h.api(null, 'GET', '/healthz')).body).toMatchObject({ ok: true });
    const spec = await h.api<{ openapi: string; paths: Record<string, unknown> }>(null, 'GET', '/openapi.json');
    expect(spec.body.openapi).toBe('3.1.0');
    expect(Object.keys(spec.body.paths)).toEqual(expect.arrayContaining(['/api/rooms', '/api/sessions', '/api/audit/verify', '/api/roles/{roleId}']));
  });

  it('refuses a missing, forged or ID token with a typed 401', async () => {
    expect(await h.api(null, 'GET', '/api/me')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    const real = await h.token(TECH);
    const [header, payload] = real.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), tid: 'fabrikam' })).toString('base64url');
    const forged = await h.api(null, 'GET', '/api/me', undefined, { authorization: `Bearer ${header}.${forgedPayload}.${real.split('.')[2]}` });
    expect(forged.status).toBe(401);
    const tokens = await devSignIn(h.idp.issuer, h.idp.caPem, TECH);
    expect((await h.api(null, 'GET', '/api/me', undefined, { authorization: `Bearer ${tokens.idToken}` })).status).toBe(401);
  });

  it('refuses an expired token', async () => {
    h.clock.offsetMs = 2 * 3600 * 1000;
    try {
      expect(await h.api(TECH, 'GET', '/api/me')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', details: ['ERR_JWT_EXPIRED'] } } });
    } finally {
      h.clock.offsetMs = 0;
    }
  });

  /** A token signed with the provider's own key, as a misconfigured issuer (or another tenant's sign-in) would produce it. */
  async function providerToken(claims: Record<string, unknown>, expires = true): Promise<{ authorization: string }> {
    const [jwk] = (JSON.parse(readFileSync(join(dirname(h.idp.caFile), 'jwks.json'), 'utf8')) as { keys: (JWK & { kid: string })[] }).keys;
    const jwt = new SignJWT({ oid: 'u-tech', groups: [], ...claims }).setProtectedHeader({ alg: 'RS256', kid: jwk!.kid, typ: 'at+jwt' }).setIssuer(h.idp.issuer).setAudience('api://roomlink').setIssuedAt();
    return { authorization: `Bearer ${await (expires ? jwt.setExpirationTime('5m') : jwt).sign(await importJWK(jwk!, 'RS256'))}` };
  }

  it('refuses a token the provider signed without an expiry', async () => {
    expect((await h.api(null, 'GET', '/api/me', undefined, await providerToken({ tid: 'contoso' }))).status).toBe(200);
    expect(await h.api(null, 'GET', '/api/me', undefined, await providerToken({ tid: 'contoso' }, false))).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', details: ['ERR_JWT_CLAIM_VALIDATION_FAILED'] } } });
  });

  it('refuses a valid token of a tenant this server was not given, and creates nothing for it', async () => {
    const headers = await providerToken({ tid: 'northwind', oid: 'u-north', wids: ['62e90394-69f5-4237-9190-012177145e10'] });
    expect(await h.api(null, 'GET', '/api/me', undefined, headers)).toMatchObject({ status: 403, body: { error: { code: 'tenant_not_provisioned' } } });
    expect((await h.api(null, 'POST', '/api/rooms', { name: 'Squat' }, headers)).status).toBe(403);
    expect(await h.server.services.directory.tenantExists('northwind')).toBe(false);
  });

  it('takes tenant, user, groups and directory roles from the token', async () => {
    const me = await h.api<{ tenantId: string; userId: string; canManageRoles: boolean; permissions: string[] }>(ADMIN, 'GET', '/api/me');
    expect(me.body).toMatchObject({ tenantId: 'contoso', userId: 'u-admin', canManageRoles: true });
    expect(me.body.permissions).toContain('settings.manage');
    expect((await h.api<{ canManageRoles: boolean }>(TECH, 'GET', '/api/me')).body.canManageRoles).toBe(false);
  });
});

describe('rule 1: remote-access opt-in', () => {
  it('starts off, needs a valid email to turn on, and audits each change', async () => {
    expect((await h.api(ADMIN, 'GET', '/api/settings/remote-access')).body).toMatchObject({ enabled: false });
    expect(await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true })).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect((await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'not-an-email' })).status).toBe(400);
    expect((await h.api(TECH, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'tech@contoso.test' })).body).toMatchObject({ error: { code: 'not_permitted' } });
    const on = await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'it-lead@contoso.test' });
    expect(on.body).toMatchObject({ enabled: true, acknowledgedBy: 'it-lead@contoso.test', changedBy: 'Adele Admin' });
    await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: false });
    const audit = await h.api<{ records: { type: string; actorName: string; data: Record<string, unknown> }[] }>(ADMIN, 'GET', '/api/audit?limit=5');
    expect(audit.body.records.slice(0, 2).map((r) => r.type)).toEqual(['remoteAccess.disabled', 'remoteAccess.enabled']);
    expect(audit.body.records[1]).toMatchObject({ actorName: 'Adele Admin', data: { acknowledgingEmail: 'it-lead@contoso.test' } });
  });

  it('keeps tenants apart: another tenant’s admin sees its own setting', async () => {
    await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
    expect((await h.api(OUTSIDER, 'GET', '/api/settings/remote-access')).body).toMatchObject({ enabled: false });
  });
});

describe('rules 2 and 3: roles', () => {
  it('lists the built-ins read-only', async () => {
    const roles = await h.api<{ id: string; builtIn: boolean }[]>(TECH, 'GET', '/api/roles');
    expect(roles.body.filter((r) => r.builtIn).map((r) => r.id)).toEqual(['pro-manager', 'site-lead', 'site-technician']);
    expect((await h.api(ADMIN, 'PUT', '/api/roles/pro-manager', { name: 'Mine', permissions: ['remoteAccess.modify'] })).body).toMatchObject({ error: { code: 'not_permitted' } });
    expect((await h.api(ADMIN, 'DELETE', '/api/roles/site-lead')).body).toMatchObject({ error: { code: 'not_permitted' } });
  });

  it('lets only role managers create, edit and delete custom roles, each audited', async () => {
    const input = { name: 'Desk', permissions: ['remoteAccess.view'], assignments: [{ groups: ['room-observers'], tags: ['lobby'] }] };
    expect((await h.api(TECH, 'POST', '/api/roles', input)).body).toMatchObject({ error: { code: 'not_permitted' } });
    const created = await h.api<{ id: string; assignments: { tags: string[] }[] }>(ADMIN, 'POST', '/api/roles', input);
    expect(created.status).toBe(201);
    expect(created.body.assignments[0]!.tags).toEqual(['lobby']);
    const edited = await h.api<{ name: string }>(ADMIN, 'PUT', `/api/roles/${created.body.id}`, { ...input, name: 'Front desk' });
    expect(edited.body.name).toBe('Front desk');
    expect((await h.api(ADMIN, 'DELETE', `/api/roles/${created.body.id}`)).status).toBe(200);
    const types = (await h.api<{ records: { type: string }[] }>(ADMIN, 'GET', '/api/audit?limit=3')).body.records.map((r) => r.type);
    expect(types).toEqual(['role.deleted', 'role.updated', 'role.created']);
  });

  it('refuses unknown fields and oversized bodies with typed errors', async () => {
    expect((await h.api(ADMIN, 'POST', '/api/roles', { name: 'X', permissions: ['rooms.read'], admin: true })).body).toMatchObject({ error: { code: 'bad_request', details: [expect.stringContaining('admin')] } });
    expect((await h.api(ADMIN, 'POST', '/api/roles', { name: 'X', permissions: ['rooms.read'], description: 'x'.repeat(70_000) })).body).toMatchObject({ error: { code: 'payload_too_large' } });
    expect((await h.api(ADMIN, 'POST', '/api/roles', '{"name":')).status).toBe(400);
  });
});

describe('rooms and enrollment', () => {
  it('creates rooms on a location path and shows each caller their level', async () => {
    const region = await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'EMEA', kind: 'region' });
    const building = await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'North', kind: 'building', parentId: region.body.id });
    expect((await h.api(ADMIN, 'POST', '/api/locations', { name: 'Bad', kind: 'region', parentId: building.body.id })).status).toBe(400);
    const { roomId } = await h.room({ name: 'Board 1', locationId: building.body.id, tags: ['boardroom'] });
    await grantAccess(h, 'modify', 'room-technicians', { locations: [building.body.id] });
    const rooms = await h.api<{ id: string; remoteAccess: string; online: boolean; locationPath: { name: string }[]; health: string }[]>(TECH, 'GET', '/api/rooms');
    const room = rooms.body.find((r) => r.id === roomId)!;
    expect(room).toMatchObject({ remoteAccess: 'modify', online: true });
    expect(room.locationPath.map((l) => l.name)).toEqual(['EMEA', 'North']);
    expect((await h.api<{ id: string }[]>(VIEWER, 'GET', '/api/rooms')).body.find((r) => r.id === roomId)).toBeUndefined();
    expect((await h.api(OUTSIDER, 'GET', `/api/rooms/${roomId}`)).body).toMatchObject({ error: { code: 'room_not_found' } });
  });

  it('marks a room offline once its agent is silent for three heartbeats', async () => {
    const { roomId, agent } = await h.room({ name: 'Quiet' });
    const online = async () => (await h.api<{ online: boolean; health: string }>(ADMIN, 'GET', `/api/rooms/${roomId}`)).body;
    expect(await online()).toMatchObject({ online: true });
    // The harness beats every second; this agent sends nothing after its handshake.
    await new Promise((resolve) => setTimeout(resolve, 4200));
    expect(await online()).toMatchObject({ online: false, health: 'offline' });
    expect(agent.ws.readyState).toBe(agent.ws.CLOSED);
  });

  it('never drops an agent as silent while the server is still welcoming it', async () => {
    const { roomId, agent } = await h.room({ name: 'Slowly welcomed' });
    await agent.close();
    const { monitor } = h.server.services;
    const observe = monitor.observe.bind(monitor);
    // Recording the room online takes longer than three heartbeats (the harness beats every second), as on a node taking over a lost node's rooms.
    monitor.observe = async (id, observation) => {
      if (id === roomId && observation.online) await new Promise((resolve) => setTimeout(resolve, 3500));
      return observe(id, observation);
    };
    try {
      expect((await agent.connect()).type).toBe('agent.welcome');
      agent.ws.ping();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    } finally {
      monitor.observe = observe;
    }
  });

  it('answers an agent’s pings every other beat, not each one', async () => {
    const { agent } = await h.room({ name: 'Answered' });
    let pongs = 0;
    agent.ws.on('pong', () => (pongs += 1));
    for (let i = 0; i < 3; i += 1) agent.ws.ping();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pongs).toBe(1);
    // 1.5 beats after the last answer (the harness beats every second), the next ping is answered.
    await new Promise((resolve) => setTimeout(resolve, 1400));
    agent.ws.ping();
    await expect.poll(() => pongs).toBe(2);
  });

  it('keeps a room online while its agent pings, with no other message', async () => {
    const { roomId, agent } = await h.room({ name: 'Pinging' });
    const beat = setInterval(() => agent.ws.ping(), 500);
    try {
      await new Promise((resolve) => setTimeout(resolve, 4200));
      expect((await h.api<{ online: boolean }>(ADMIN, 'GET', `/api/rooms/${roomId}`)).body).toMatchObject({ online: true });
      expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    } finally {
      clearInterval(beat);
    }
  });

  it('restarts a room’s PC on request, never during a call or a session, and audits it', async () => {
    await grantAccess(h, 'modify', 'room-technicians', { tags: ['restartable'] });
    const { roomId, agent } = await h.room({ name: 'Restartable', tags: ['restartable'] });
    expect((await h.api(VIEWER, 'POST', `/api/rooms/${roomId}/restart`)).status).toBe(403);

    agent.send({ type: 'agent.callState', inCall: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await h.api<{ error: { code: string } }>(ADMIN, 'POST', `/api/rooms/${roomId}/restart`)).body.error.code).toBe('room_in_call');
    agent.send({ type: 'agent.callState', inCall: false });
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = await h.api<{ sessionId: string }>(TECH, 'POST', '/api/sessions', { roomId });
    expect((await h.api<{ error: { code: string } }>(ADMIN, 'POST', `/api/rooms/${roomId}/restart`)).body.error.code).toBe('room_busy');
    await h.api(TECH, 'POST', `/api/sessions/${started.body.sessionId}/end`);
    const end = await agent.next('session.end');
    agent.send({ type: 'session.end', sessionId: end.sessionId, reason: end.reason, input: { accepted: 0, dropped: 0 }, restarting: false });
    await agent.next('session.ack');

    expect(await h.api(ADMIN, 'POST', `/api/rooms/${roomId}/restart`)).toMatchObject({ status: 202, body: { ok: true } });
    expect(await agent.next('device.action')).toMatchObject({ action: 'restart' });
    const record = (await h.api<{ records: { roomId: string; actorName: string }[] }>(ADMIN, 'GET', '/api/audit?type=room.restartRequested&limit=1')).body.records[0];
    expect(record).toMatchObject({ roomId, actorName: 'Adele Admin' });
    await agent.close();
    await expect.poll(async () => (await h.api<{ error?: { code: string } }>(ADMIN, 'POST', `/api/rooms/${roomId}/restart`)).body.error?.code).toBe('room_offline');
  });

  it('changes only what a patch names', async () => {
    const created = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Patchy', tags: ['lobby'], license: 'basic', platform: 'x11' });
    const patched = await h.api(ADMIN, 'PATCH', `/api/rooms/${created.body.id}`, {});
    expect(patched.body).toMatchObject({ name: 'Patchy', tags: ['lobby'], license: 'basic', platform: 'x11' });
    expect((await h.api(ADMIN, 'PATCH', `/api/rooms/${created.body.id}`, { name: 'Patchier' })).body).toMatchObject({ name: 'Patchier', tags: ['lobby'] });
  });

  it('spends an enrollment code once', async () => {
    const created = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Huddle' });
    const code = await h.api<{ code: string }>(ADMIN, 'POST', `/api/rooms/${created.body.id}/enrollment-code`);
    const { TestAgent } = await import('./agent-client');
    expect((await new TestAgent(h.server.url).enroll(code.body.code)).status).toBe(200);
    const reuse = await new TestAgent(h.server.url).enroll(code.body.code);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: { code: 'enrollment_code_invalid' } });
    expect((await h.api(TECH, 'POST', `/api/rooms/${created.body.id}/enrollment-code`)).status).toBe(403);
  });
});

describe('enrollment attempts', () => {
  it('are rate limited per address when the code is wrong, and a site enrolling many rooms with good codes is not', async () => {
    const strict = await startHarness({ enrollmentRate: { burst: 3, perSecond: 0.01 } });
    try {
      const { TestAgent } = await import('./agent-client');
      // Eight rooms at once, as a site rollout (or the demo's --synthetic-rooms 8) enrols them.
      await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => strict.room({ name: `Rollout ${n}` })));
      const codes = await Promise.all([1, 2, 3, 4].map(() => new TestAgent(strict.server.url).enroll('WRONGCODE00')));
      expect(codes.map((r) => r.status).sort()).toEqual([400, 400, 400, 429]);
      // Once the address has guessed too often, a good code waits too: the limit is per address, not per code.
      const created = await strict.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Late' });
      const code = await strict.api<{ code: string }>(ADMIN, 'POST', `/api/rooms/${created.body.id}/enrollment-code`);
      expect((await new TestAgent(strict.server.url).enroll(code.body.code)).status).toBe(429);
    } finally {
      await strict.close();
    }
  });
});
