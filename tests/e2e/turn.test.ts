import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wrtc from '@roamhq/wrtc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolledAgent, type TestAgent } from '../../apps/room-agent/test/support/agent';
import { ControlPlane } from '../../apps/room-agent/test/support/control-plane';
import { eventually, Viewer } from '../../apps/room-agent/test/support/viewer';
import { icePlan, type IceConfig, type IcePlan } from '../../apps/server/src/sessions/ice';
import { startCoturn, type Coturn } from '../../scripts/services/coturn';

/**
 * Sessions through TURN: coturn from Debian with the TURN REST API's shared
 * secret, credentials minted per session by the server's `icePlan`, and a
 * session whose media may only be relayed (`iceTransportPolicy: 'relay'`):
 * the picture arrives through coturn, and credentials that have expired or
 * were signed with another secret get no relay at all.
 */

const SECRET = 'a-secret-shared-with-coturn-only';
let coturn: Coturn;
let config: IceConfig;

beforeAll(async () => {
  coturn = await startCoturn({ dir: mkdtempSync(join(tmpdir(), 'roomlink-coturn-')), secret: SECRET });
  config = { stunUrls: [], turn: { urls: coturn.urls, secret: SECRET, ttlSeconds: 600 }, relayOnly: true };
});
afterAll(() => coturn?.close());

/** The relay candidates a peer gathers with a plan: none when coturn refuses its credentials. */
async function relayCandidates(plan: IcePlan): Promise<string[]> {
  const pc = new wrtc.RTCPeerConnection(plan);
  pc.createDataChannel('probe');
  const found: string[] = [];
  const gathered = new Promise<void>((resolve) => {
    pc.onicecandidate = (event: RTCPeerConnectionIceEvent) => (event.candidate ? found.push(event.candidate.candidate) : resolve());
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered;
  pc.close();
  return found.filter((candidate) => candidate.includes(' typ relay '));
}

describe('TURN credentials per session', () => {
  it('get a relay from coturn while they are valid, named after the session', async () => {
    const plan = icePlan(config, 's-valid', new Date());
    expect(plan.iceTransportPolicy).toBe('relay');
    expect(plan.iceServers[0]!.username).toMatch(/^\d+:s-valid$/);
    expect((await relayCandidates(plan)).length).toBeGreaterThan(0);
  });

  it('are refused once expired, or when signed with another secret', async () => {
    const expired = icePlan(config, 's-old', new Date(Date.now() - 601_000));
    expect(await relayCandidates(expired)).toEqual([]);
    const forged = icePlan({ ...config, turn: { ...config.turn!, secret: 'not-the-secret-coturn-knows' } }, 's-forged', new Date());
    expect(await relayCandidates(forged)).toEqual([]);
  });
});

describe('a relay-only session', () => {
  let plane: ControlPlane;
  let room: TestAgent;

  beforeAll(async () => {
    plane = new ControlPlane();
    await plane.listen();
    room = await enrolledAgent(plane, { platform: 'synthetic' });
  });
  afterAll(async () => {
    await room?.stop();
    await plane?.kill();
  });

  it('carries the picture through coturn, on a candidate pair that is relayed at both ends', async () => {
    const sessionId = `s-${randomUUID()}`;
    const plan = icePlan(config, sessionId, new Date());
    await plane.offer('view', { fields: { sid: sessionId } }, plan);
    const viewer = new Viewer(plane, sessionId, plan);
    try {
      await plane.waitFor('session.active', (m) => m.sessionId === sessionId);
      await eventually(() => viewer.framesReceived > 0, 'a picture through the relay');
      const pc = (viewer.peer as unknown as { _pc: RTCPeerConnection })._pc;
      const stats = [...(await pc.getStats()).values()] as { type: string; id: string; state?: string; nominated?: boolean; localCandidateId?: string; remoteCandidateId?: string; candidateType?: string }[];
      const pair = stats.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
      const candidate = (id: string | undefined) => stats.find((s) => s.id === id)?.candidateType;
      expect([candidate(pair?.localCandidateId), candidate(pair?.remoteCandidateId)]).toEqual(['relay', 'relay']);
    } finally {
      viewer.close();
      await room.agent.currentSession?.end('user_ended');
    }
  });
});
