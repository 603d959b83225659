import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GRANT_AUDIENCE, GRANT_ISSUER, GRANT_TTL_SECONDS } from '@roomlink/shared';
import { TestAgent } from './agent-client';
import { ADMIN, grantAccess, OUTSIDER, startHarness, TECH, VIEWER, type Harness } from './harness';

let h: Harness;
let building: string;
beforeAll(async () => {
  h = await startHarness();
  const region = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'EMEA', kind: 'region' })).body.id;
  building = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'North', kind: 'building', parentId: region })).body.id;
  await grantAccess(h, 'modify', 'room-technicians', { locations: [building] });
  await grantAccess(h, 'view', 'room-observers', { locations: [building] });
});
afterAll(() => h.close());

type Started = { sessionId: string; level: string };
const start = (user: string, roomId: string) => h.api<Started & { error?: { code: string; message: string } }>(user, 'POST', '/api/sessions', { roomId }, { 'x-roomlink-device': 'TECH-LAPTOP-7' });
const lastAudit = async (type: string) => (await h.api<{ records: { type: string; data: Record<string, unknown>; actorName: string; roomName: string }[] }>(ADMIN, 'GET', `/api/audit?type=${type}&limit=1`)).body.records[0];

async function acceptAndRun(agent: TestAgent, sessionId: string) {
  await agent.next('session.offer');
  agent.send({ type: 'session.accept', sessionId: sessionId as never });
  agent.send({ type: 'session.active', sessionId: sessionId as never });
}

async function endFromAgent(agent: TestAgent, sessionId: string, input = { accepted: 0, dropped: 0 }) {
  const end = await agent.next('session.end');
  agent.send({ type: 'session.end', sessionId: sessionId as never, reason: end.reason, input, restarting: false });
}

describe('rule 5: who may start a session, and every refusal audited', () => {
  let room: { roomId: string; agent: TestAgent };
  beforeEach(async () => {
    room = await h.room({ locationId: building });
  });

  it('refuses while the tenant switch is off', async () => {
    await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: false });
    try {
      expect((await start(TECH, room.roomId)).body.error).toMatchObject({ code: 'remote_access_disabled', message: expect.stringContaining('turned off') });
      expect(await lastAudit('session.refused')).toMatchObject({ actorName: 'Tomas Technician', data: { code: 'remote_access_disabled', consoleDevice: { name: 'TECH-LAPTOP-7' } } });
    } finally {
      await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
    }
  });

  it('refuses a user with no assignment for the room, and a Global Administrator without one', async () => {
    const elsewhere = await h.room({});
    expect((await start(TECH, elsewhere.roomId)).body.error?.code).toBe('not_permitted');
    expect(await lastAudit('session.refused')).toMatchObject({ actorName: 'Tomas Technician', data: { code: 'not_permitted' } });
    expect((await start(ADMIN, room.roomId)).body.error?.code).toBe('not_permitted');
  });

  it('does not let another tenant reach the room, not even to learn it exists', async () => {
    const response = await start(OUTSIDER, room.roomId);
    expect(response.status).toBe(404);
    expect(response.body.error?.code).toBe('room_not_found');
    expect(room.agent.received.filter((m) => m.type === 'session.offer')).toEqual([]);
  });

  it('ignores a remote-access permission forged onto a built-in role in the database', async () => {
    const { db } = h.server.services.store;
    await db.insertInto('roles').values({ tenant_id: 'contoso', id: 'site-technician', name: 'Forged', permissions: '["remoteAccess.modify"]', updated_at: '' }).execute();
    await db
      .insertInto('assignments')
      .values({ tenant_id: 'contoso', id: 'forged', role_id: 'site-technician', users: '["u-admin"]', groups_: '[]', rooms: JSON.stringify([room.roomId]), locations: '[]', tags: '[]' })
      .execute();
    // Cached policies are read again when the tenant's policy version moves, as any change through the API moves it.
    await h.server.services.directory.policyChanged('contoso');
    expect((await start(ADMIN, room.roomId)).body.error?.code).toBe('not_permitted');
  });

  it('refuses an offline room, an unmonitored room, a room in a call and a busy room', async () => {
    await room.agent.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await start(TECH, room.roomId)).body.error?.code).toBe('room_offline');
    expect(await lastAudit('session.refused')).toMatchObject({ data: { code: 'room_offline' } });

    const basic = await h.room({ locationId: building, license: 'basic' });
    expect((await start(TECH, basic.roomId)).body.error?.code).toBe('room_not_monitored');

    const busy = await h.room({ locationId: building });
    busy.agent.send({ type: 'agent.callState', inCall: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await start(TECH, busy.roomId)).body.error?.code).toBe('room_in_call');
    busy.agent.send({ type: 'agent.callState', inCall: false });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = await start(TECH, busy.roomId);
    expect(first.status).toBe(201);
    expect((await start(VIEWER, busy.roomId)).body.error?.code).toBe('room_busy');
    expect(await lastAudit('session.refused')).toMatchObject({ actorName: 'Vera Viewer', data: { code: 'room_busy' } });
    // The same technician is told it is their own session, not someone else's.
    expect((await start(TECH, busy.roomId)).body.error).toMatchObject({ code: 'session_already_open', message: expect.stringContaining('You already have a session') });
    await h.api(TECH, 'POST', `/api/sessions/${first.body.sessionId}/end`);
  });
});

describe('one live session per room, held by the database', () => {
  it('refuses a room whose session another process left open (a crashed node), and lets it go once that session ends', async () => {
    const { roomId } = await h.room({ locationId: building });
    // What a node that died mid-session leaves behind: the row, holding the room; no process here knows it.
    const { db } = h.server.services.store;
    const session = (id: string, userId: string, state: string) => ({ id, tenant_id: 'contoso', room_id: roomId, room_name: 'R', user_id: userId, user_name: userId, level: 'view', console_device: '{}', state, started_at: new Date().toISOString(), live_room: roomId });
    await db.insertInto('sessions').values(session('ses-elsewhere', 'u-1', 'active')).execute();
    expect((await start(TECH, roomId)).body.error?.code).toBe('room_busy');
    expect(await lastAudit('session.refused')).toMatchObject({ data: { code: 'room_busy' } });
    await expect(db.insertInto('sessions').values(session('ses-twin', 'u-2', 'requested')).execute()).rejects.toThrow(/UNIQUE|unique/);
    await db.updateTable('sessions').set({ state: 'ended', live_room: null }).where('id', '=', 'ses-elsewhere').execute();
    const started = await start(TECH, roomId);
    expect(started.status).toBe(201);
    await h.api(TECH, 'POST', `/api/sessions/${started.body.sessionId}/end`);
    // An ended session lets go of its room (here once the end's acknowledgement from the room times out).
    const liveRoom = async () => (await db.selectFrom('sessions').select('live_room').where('id', '=', started.body.sessionId).executeTakeFirst())?.live_room;
    await expect.poll(liveRoom, { timeout: 10_000 }).toBeNull();
  });
});

describe('pointer control', () => {
  it('is off until an administrator turns it on, audited; then only modify grants carry it', async () => {
    // A fresh room each time: an ended session keeps its room until the room reports the end.
    const grantOf = async (username: string) => {
      const { roomId, agent } = await h.room({ locationId: building });
      expect((await start(username, roomId)).status).toBe(201);
      return decodeJwt((await agent.next('session.offer')).grant);
    };
    expect((await h.api<{ pointerControl: boolean }>(TECH, 'GET', '/api/settings/remote-access')).body.pointerControl).toBe(false);
    expect((await grantOf(TECH)).ptr).toBe(false);

    expect((await h.api(TECH, 'PUT', '/api/settings/pointer-control', { enabled: true })).status).toBe(403);
    expect((await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: 'yes' })).status).toBe(400);
    expect((await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: true })).body).toMatchObject({ pointerControl: true });
    expect(await lastAudit('pointerControl.enabled')).toMatchObject({ actorName: 'Adele Admin' });
    expect((await grantOf(TECH)).ptr).toBe(true);
    expect((await grantOf(VIEWER)).ptr).toBe(false);
    await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: false });
    expect((await grantOf(TECH)).ptr).toBe(false);
  });
});

describe('rule 6: the grant', () => {
  it('is a single-use EdDSA JWS naming session, tenant, room, user and level, valid 60 s, signed by the pinned key', async () => {
    const { roomId, agent } = await h.room({ locationId: building });
    const started = await start(VIEWER, roomId);
    expect(started.body.level).toBe('view');
    const offer = await agent.next('session.offer');
    expect(decodeProtectedHeader(offer.grant)).toMatchObject({ alg: 'EdDSA' });
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: agent.grantPublicKey }, 'EdDSA');
    const { payload } = await jwtVerify(offer.grant, key, { issuer: GRANT_ISSUER, audience: GRANT_AUDIENCE });
    expect(payload).toMatchObject({ sid: started.body.sessionId, tid: 'contoso', rid: roomId, sub: 'u-viewer', lvl: 'view', ptr: false });
    expect(payload.exp! - payload.iat!).toBe(GRANT_TTL_SECONDS);
    expect(decodeJwt(offer.grant).jti).toEqual(expect.any(String));
    agent.send({ type: 'session.reject', sessionId: started.body.sessionId as never, code: 'grant_replayed' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await lastAudit('session.rejected')).toMatchObject({ data: { code: 'grant_replayed' } });
    expect(await lastAudit('session.ended')).toMatchObject({ data: { reason: 'grant_rejected' } });
  });
});

describe('agent identity', () => {
  it('refuses an agent that cannot sign with the enrolled key, and audits the attempt', async () => {
    const { roomId } = await h.room({ locationId: building });
    const impostor = new TestAgent(h.server.url);
    const answer = await impostor.connect(roomId);
    expect(answer).toMatchObject({ type: 'error', code: 'agent_unknown' });
    expect(await lastAudit('agent.proofFailed')).toBeDefined();
    await impostor.close();
  });

  it('refuses a room id that was never enrolled', async () => {
    const stranger = new TestAgent(h.server.url);
    expect(await stranger.connect('room-does-not-exist')).toMatchObject({ type: 'error', code: 'agent_unknown' });
    await stranger.close();
  });
});

describe('signaling and the session state machine', () => {
  it('relays signaling only between the two ends of a session', async () => {
    const { roomId, agent } = await h.room({ locationId: building });
    const tech = await h.consoleSocket(TECH);
    const viewer = await h.consoleSocket(VIEWER);
    const outsider = await h.consoleSocket(OUTSIDER);
    const started = await start(TECH, roomId);
    const sessionId = started.body.sessionId as never;
    await acceptAndRun(agent, sessionId);
    await tech.next((m) => m.type === 'session.state' && m.state === 'active');

    agent.send({ type: 'session.signal', sessionId, data: { type: 'offer', sdp: 'v=0 agent' } });
    expect(await tech.next((m) => m.type === 'session.signal')).toMatchObject({ data: { sdp: 'v=0 agent' } });

    tech.send({ type: 'session.signal', sessionId, data: { type: 'answer', sdp: 'v=0 tech' } });
    expect(await agent.next('session.signal')).toMatchObject({ data: { sdp: 'v=0 tech' } });

    for (const intruder of [viewer, outsider]) {
      intruder.send({ type: 'session.signal', sessionId, data: { type: 'answer', sdp: 'v=0 intruder' } });
      expect(await intruder.next((m) => m.type === 'error')).toMatchObject({ code: 'session_not_found' });
      intruder.send({ type: 'session.end', sessionId });
      expect(await intruder.next((m) => m.type === 'error')).toMatchObject({ code: 'session_not_found' });
    }

    // Another room's agent naming this session is ignored.
    const other = await h.room({ locationId: building });
    other.agent.send({ type: 'session.signal', sessionId, data: { type: 'offer', sdp: 'v=0 other' } });
    other.agent.send({ type: 'session.end', sessionId, reason: 'agent_ended', input: { accepted: 0, dropped: 0 }, restarting: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(tech.messages.filter((m) => m.type === 'session.signal')).toEqual([]);
    expect(agent.received.filter((m) => m.type === 'session.signal' && 'data' in m && m.data.type === 'answer')).toEqual([]);

    tech.send({ type: 'session.end', sessionId });
    await endFromAgent(agent, sessionId, { accepted: 17, dropped: 0 });
    expect(await tech.next((m) => m.type === 'session.state' && m.state === 'ended')).toMatchObject({ reason: 'user_ended' });
    expect(await lastAudit('session.ended')).toMatchObject({
      actorName: 'Tomas Technician',
      data: { level: 'modify', reason: 'user_ended', input: { accepted: 17, dropped: 0 }, restarted: false, consoleDevice: { name: 'TECH-LAPTOP-7' }, durationMs: expect.any(Number) },
    });
  });

  it('ends a session when a call starts (rule 10)', async () => {
    const { roomId, agent } = await h.room({ locationId: building });
    const tech = await h.consoleSocket(TECH);
    const started = await start(TECH, roomId);
    await acceptAndRun(agent, started.body.sessionId);
    agent.send({ type: 'agent.callState', inCall: true });
    expect(await agent.next('session.end')).toMatchObject({ reason: 'call_started' });
    expect(await tech.next((m) => m.type === 'session.state' && m.state === 'ending')).toMatchObject({ reason: 'call_started' });
  });

  it('ends a session when the agent is gone past the grace period (rule 10)', async () => {
    const { roomId, agent } = await h.room({ locationId: building });
    const tech = await h.consoleSocket(TECH);
    const started = await start(TECH, roomId);
    await acceptAndRun(agent, started.body.sessionId);
    await agent.close();
    expect(await tech.next((m) => m.type === 'session.state' && m.state === 'ended', 3000)).toMatchObject({ reason: 'control_plane_lost' });
  });

  it('ends a session whose media never comes up (setup timeout)', async () => {
    const quick = await startHarness({ setupTimeoutMs: 200 });
    try {
      await grantAccess(quick, 'modify', 'room-technicians', { tags: ['t'] });
      const { roomId, agent } = await quick.room({ tags: ['t'] });
      const tech = await quick.consoleSocket(TECH);
      await quick.api(TECH, 'POST', '/api/sessions', { roomId });
      expect(await agent.next('session.end')).toMatchObject({ reason: 'setup_timeout' });
      expect(await tech.next((m) => m.type === 'session.state' && m.state === 'ending')).toMatchObject({ reason: 'setup_timeout' });
    } finally {
      await quick.close();
    }
  });
});

describe('console hub authentication', () => {
  it('refuses the upgrade without a valid token', async () => {
    const WebSocket = (await import('ws')).default;
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${h.server.url.replace('http', 'ws')}/console`, { headers: { authorization: 'Bearer not.a.token' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });
});

describe('audit verification over the API', () => {
  it('verifies the whole chain written by these tests, sealed at least through the last session’s end', async () => {
    const ended = (await lastAudit('session.ended')) as unknown as { seq: number };
    const verification = (await h.api<{ sealedThroughSeq: number }>(ADMIN, 'GET', '/api/audit/verify')).body;
    expect(verification).toMatchObject({ ok: true, firstBadSeq: null });
    expect(verification.sealedThroughSeq).toBeGreaterThanOrEqual(ended.seq);
    const csv = await h.api<string>(ADMIN, 'GET', '/api/audit.csv?type=session.ended');
    expect(csv.body.split('\r\n')[0]).toContain('seq,at,type');
    expect(csv.body).toContain('session.ended');
  });
});
