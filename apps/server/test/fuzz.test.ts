import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@roomlink/shared';
import { ADMIN, grantAccess, startHarness, TECH, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const templates: Record<string, unknown>[] = [
  { v: PROTOCOL_VERSION, type: 'agent.health', signals: { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' }, displays: [] },
  { v: PROTOCOL_VERSION, type: 'agent.callState', inCall: false },
  { v: PROTOCOL_VERSION, type: 'session.signal', sessionId: 'ses-x', data: { type: 'offer', sdp: 'v=0' } },
  { v: PROTOCOL_VERSION, type: 'session.end', sessionId: 'ses-x', reason: 'agent_ended', input: { accepted: 1, dropped: 0 }, restarting: false },
  { v: PROTOCOL_VERSION, type: 'session.reject', sessionId: 'ses-x', code: 'grant_invalid' },
  { v: PROTOCOL_VERSION, type: 'agent.hello', roomId: 'room-x', agentVersion: '1', platform: 'x11' },
];

/** Valid messages with one field replaced, removed or added, plus plain garbage. */
const hostile: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.tuple(fc.constantFrom(...templates), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('set', 'delete')).map(([template, key, value, how]) => {
    const message: Record<string, unknown> = { ...template };
    const target = how === 'set' && Math.random() < 0.5 ? (Object.keys(message)[key.length % Object.keys(message).length] ?? key) : key;
    if (how === 'delete') delete message[Object.keys(message)[key.length % Object.keys(message).length]!];
    else message[target] = value;
    return JSON.stringify(message);
  }),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constant('x'.repeat(70_000)),
);

async function settle(ws: WebSocket): Promise<void> {
  // A ping round trip: everything sent before it has been handled.
  await new Promise<void>((resolve) => {
    ws.once('pong', () => resolve());
    ws.ping();
  });
}

describe('fuzzing the hubs and the API', () => {
  it('survives thousands of hostile messages with the database and audit chain intact', async () => {
    await grantAccess(h, 'modify', 'room-technicians', { tags: ['fuzz'] });
    const { roomId, agent } = await h.room({ tags: ['fuzz'] });
    const consoleSocket = await h.consoleSocket(TECH);
    const samples = fc.sample(hostile, { numRuns: 3000, seed: 7 });

    for (const [i, message] of samples.entries()) {
      // Frames over the size limit close the sending socket (checked below), so they go elsewhere.
      if (message.length >= 65_536) continue;
      if (i % 3 === 0) consoleSocket.ws.send(message);
      else agent.sendRaw(message);
    }
    await settle(consoleSocket.ws);
    if (agent.ws.readyState === WebSocket.OPEN) await settle(agent.ws);

    const stranger = new WebSocket(`${h.server.url.replace('http', 'ws')}/agent`);
    await new Promise((resolve) => stranger.once('open', resolve));
    for (const message of samples.slice(0, 200)) if (stranger.readyState === WebSocket.OPEN && message.length < 65_536) stranger.send(message);
    stranger.close();

    const oversized = await h.consoleSocket(TECH);
    const closed = new Promise<number>((resolve) => oversized.ws.once('close', (code) => resolve(code)));
    oversized.ws.send('x'.repeat(70_000));
    expect(await closed).toBe(1009);

    const routes = ['/api/rooms', '/api/roles', '/api/sessions', '/api/settings/remote-access', '/api/locations', `/api/rooms/${roomId}`, '/api/agent/enroll', '/api/roles/pro-manager/assignments', '/api/roles/site-lead/assignments'];
    const bodies = fc.sample(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 100 })), { numRuns: 400, seed: 11 });
    const statuses = new Set<number>();
    for (const [i, body] of bodies.entries()) {
      const method = ['POST', 'PUT', 'PATCH', 'DELETE'][i % 4]!;
      const response = await h.api(i % 2 ? TECH : ADMIN, method, routes[i % routes.length]!, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json' });
      statuses.add(response.status);
    }
    expect([...statuses].filter((status) => status >= 500)).toEqual([]);

    // Still serving: the hostile agent stayed connected, and a real session starts.
    expect((await h.api(null, 'GET', '/healthz')).status).toBe(200);
    expect(agent.ws.readyState).toBe(WebSocket.OPEN);
    const after = await h.api(TECH, 'POST', '/api/sessions', { roomId });
    expect(after.body).toMatchObject({ sessionId: expect.any(String) });
    expect(await h.integrity()).toBe('ok');
    expect((await h.api(ADMIN, 'GET', '/api/audit/verify')).body).toMatchObject({ ok: true });
  });
});
