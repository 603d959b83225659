import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { devAccounts, TECHNICIANS_GROUP } from '../../../scripts/dev-idp/accounts';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import type { TestAgent } from './agent-client';
import { ADMIN, startHarness, TECH, type ConsoleSocket, type Harness } from './harness';

/**
 * Rule 14: a change that lowers a technician's access reaches their live
 * session within a second — ended with `access_revoked`, or lowered from
 * modify to view at the agent — whoever makes the change and however.
 */

let h: Harness;
let north: string;
let south: string;
let roleId: string;

const modifyNorth = { name: 'Technicians, North', permissions: ['remoteAccess.modify'], assignments: [{ groups: [TECHNICIANS_GROUP], locations: [] as string[] }] };
const putRole = (body: object) => h.api(ADMIN, 'PUT', `/api/roles/${roleId}`, body);
const lastAudit = async (type: string) => (await h.api<{ records: { data: Record<string, unknown>; sessionId: string }[] }>(ADMIN, 'GET', `/api/audit?type=${type}&limit=1`)).body.records[0];

beforeAll(async () => {
  h = await startHarness();
  const region = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'EMEA', kind: 'region' })).body.id;
  north = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'North', kind: 'building', parentId: region })).body.id;
  south = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/locations', { name: 'South', kind: 'building', parentId: region })).body.id;
  modifyNorth.assignments[0]!.locations = [north];
  await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
  roleId = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', modifyNorth)).body.id;
});
afterAll(() => h.close());

let room: { roomId: string; agent: TestAgent };
let tech: ConsoleSocket;
let sessionId: string;

beforeEach(async () => {
  await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
  expect((await putRole(modifyNorth)).status).toBe(200);
  room = await h.room({ locationId: north });
  tech = await h.consoleSocket(TECH);
  const started = await h.api<{ sessionId: string }>(TECH, 'POST', '/api/sessions', { roomId: room.roomId });
  sessionId = started.body.sessionId;
  await room.agent.next('session.offer');
  room.agent.send({ type: 'session.accept', sessionId: sessionId as never });
  room.agent.send({ type: 'session.active', sessionId: sessionId as never });
  await tech.next((m) => m.type === 'session.state' && m.state === 'active');
});

/** The agent is told to end within a second; it reports its counts, and the record says why. */
async function expectRevoked() {
  const end = await room.agent.next('session.end', 1000);
  expect(end).toMatchObject({ sessionId, reason: 'access_revoked' });
  room.agent.send({ type: 'session.end', sessionId: sessionId as never, reason: 'access_revoked', input: { accepted: 3, dropped: 0 }, restarting: false });
  expect(await tech.next((m) => m.type === 'session.state' && m.state === 'ended')).toMatchObject({ reason: 'access_revoked' });
  expect(await lastAudit('session.ended')).toMatchObject({ sessionId, data: { reason: 'access_revoked', input: { accepted: 3, dropped: 0 } } });
}

describe('rule 14: access changes reach live sessions', () => {
  it('lowers a modify session to view when the role loses Modify, then ends it when the role is deleted', async () => {
    await putRole({ ...modifyNorth, permissions: ['remoteAccess.view'] });
    expect(await room.agent.next('session.lower', 1000)).toMatchObject({ sessionId, level: 'view' });
    expect(await lastAudit('session.lowered')).toMatchObject({ sessionId, data: { from: 'modify', to: 'view' } });
    expect((await h.api<{ level: string }[]>(ADMIN, 'GET', '/api/sessions?active=true')).body).toEqual([expect.objectContaining({ id: sessionId, level: 'view' })]);
    // Giving Modify back does not raise the live session: that takes a new session and a new grant.
    await putRole(modifyNorth);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(room.agent.received.filter((m) => m.type === 'session.lower' || m.type === 'session.offer')).toEqual([]);

    expect((await h.api(ADMIN, 'DELETE', `/api/roles/${roleId}`)).status).toBe(200);
    await expectRevoked();
    roleId = (await h.api<{ id: string }>(ADMIN, 'POST', '/api/roles', modifyNorth)).body.id;
  });

  it('ends the session when remote access is turned off for the tenant', async () => {
    await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: false });
    await expectRevoked();
  });

  it('ends the session when the assignment stops naming the technician’s group', async () => {
    await putRole({ ...modifyNorth, assignments: [{ groups: ['someone-else'], locations: [north] }] });
    await expectRevoked();
  });

  it('ends the session when the room moves out of the technician’s scope', async () => {
    await h.api(ADMIN, 'PATCH', `/api/rooms/${room.roomId}`, { locationId: south });
    await expectRevoked();
  });

  it('ends the session when the room loses its Pro licence', async () => {
    await h.api(ADMIN, 'PATCH', `/api/rooms/${room.roomId}`, { license: 'basic' });
    await expectRevoked();
  });

  it('ends the session when the technician’s next token no longer has the group', async () => {
    const account = devAccounts.find((a) => a.username === TECH)!;
    const groups = account.groups;
    account.groups = [];
    try {
      const token = (await devSignIn(h.idp.issuer, h.idp.caPem, TECH)).accessToken;
      await fetch(`${h.server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    } finally {
      account.groups = groups;
    }
    await expectRevoked();
  });

  it('leaves the session alone when a change lowers nothing', async () => {
    await h.api(ADMIN, 'PATCH', `/api/rooms/${room.roomId}`, { name: 'Renamed' });
    await putRole({ ...modifyNorth, name: 'Renamed role' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(room.agent.received.filter((m) => m.type === 'session.end' || m.type === 'session.lower')).toEqual([]);
    await h.api(TECH, 'POST', `/api/sessions/${sessionId}/end`);
    await room.agent.next('session.end');
  });

  it('withdraws the pointer from a live modify session when pointer control is turned off, and never gives it back', async () => {
    await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: true });
    const other = await h.room({ locationId: north });
    const started = await h.api<{ sessionId: string }>(TECH, 'POST', '/api/sessions', { roomId: other.roomId });
    const pointerSession = started.body.sessionId;
    expect(decodeJwt((await other.agent.next('session.offer')).grant)).toMatchObject({ lvl: 'modify', ptr: true });
    other.agent.send({ type: 'session.accept', sessionId: pointerSession as never });
    other.agent.send({ type: 'session.active', sessionId: pointerSession as never });
    await tech.next((m) => m.type === 'session.state' && m.sessionId === pointerSession && m.state === 'active');

    await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: false });
    expect(await other.agent.next('session.lower', 1000)).toMatchObject({ sessionId: pointerSession, level: 'modify', pointer: false });
    expect(await lastAudit('session.lowered')).toMatchObject({ sessionId: pointerSession, data: { from: 'modify', to: 'modify', pointer: { from: true, to: false } } });
    // The session that never had the pointer hears nothing; turning it back on raises nothing.
    await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([...room.agent.received, ...other.agent.received].filter((m) => m.type === 'session.lower' || m.type === 'session.end')).toEqual([]);
    await h.api(ADMIN, 'PUT', '/api/settings/pointer-control', { enabled: false });
  });
});
