import { createHmac } from 'node:crypto';
import type { SessionStarted } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIceConfig, type IceConfig } from '../src/sessions/ice';
import { grantAccess, startHarness, TECH, type Harness } from './harness';

/**
 * The ICE servers a session is given: STUN as configured and TURN with
 * credentials minted for that session (the TURN REST API's shared-secret
 * scheme coturn checks), the same for the console and the room. coturn
 * itself is exercised in tests/e2e/turn.test.ts.
 */

const SECRET = 'shared-with-coturn-and-nobody-else';
const ice: IceConfig = {
  stunUrls: ['stun:stun.contoso.test:3478'],
  turn: { urls: ['turn:turn.contoso.test:3478?transport=udp', 'turns:turn.contoso.test:5349?transport=tcp'], secret: SECRET, ttlSeconds: 3600 },
  relayOnly: true,
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ice });
});
afterAll(() => h.close());

describe('ICE for a session', () => {
  it('gives the console and the room the same servers, with TURN credentials for this session that expire', async () => {
    const { roomId, agent } = await h.room({ name: 'Behind NAT' });
    await grantAccess(h, 'view', 'room-technicians', { rooms: [roomId] });
    const before = Math.floor(Date.now() / 1000);
    const started = await h.api<SessionStarted>(TECH, 'POST', '/api/sessions', { roomId });
    expect(started.status).toBe(201);
    const offer = await agent.next('session.offer');
    const { sessionId, iceServers, iceTransportPolicy } = started.body;
    expect({ iceServers: offer.iceServers, iceTransportPolicy: offer.iceTransportPolicy }).toEqual({ iceServers, iceTransportPolicy });
    expect(iceTransportPolicy).toBe('relay');
    expect(iceServers[0]).toEqual({ urls: ice.stunUrls });
    const turn = iceServers[1]!;
    expect(turn.urls).toEqual(ice.turn!.urls);
    const [expiry, named] = turn.username!.split(':');
    expect(named).toBe(sessionId);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    // What coturn computes from its copy of the secret: anyone without it cannot mint a password.
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));
  });

  it('refuses, at startup, a configuration that could not work', () => {
    expect(() => checkIceConfig({ ...ice, turn: null })).toThrow('Relay-only media needs a TURN server');
    expect(() => checkIceConfig({ ...ice, stunUrls: ['https://stun.contoso.test'] })).toThrow('Not a STUN URL');
    expect(() => checkIceConfig({ ...ice, turn: { ...ice.turn!, urls: ['stun:turn.contoso.test'] } })).toThrow('Not a TURN URL');
    expect(() => checkIceConfig({ ...ice, turn: { ...ice.turn!, secret: 'short' } })).toThrow('too short');
    expect(() => checkIceConfig({ ...ice, turn: { ...ice.turn!, ttlSeconds: 5 } })).toThrow('at least 60 seconds');
    expect(() => checkIceConfig({ stunUrls: [], turn: null, relayOnly: false })).not.toThrow();
  });
});
