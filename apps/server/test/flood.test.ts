import { generateKeyPairSync, sign } from 'node:crypto';
import WebSocket from 'ws';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentProofPayload, encodeMessage } from '@roomlink/shared';
import { ADMIN, startHarness, TECH, type Harness } from './harness';

/**
 * Flood control, from the view of a script: a signed-in user hammering
 * session starts, and an unauthenticated client hammering the agent hub
 * with proofs it cannot make. Each may cost the audit a handful of records,
 * never one per attempt, and nothing is lost: the repeats are counted.
 */

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

type Record = { type: string; roomId: string | null; data: { code?: string; repeated?: number } };
const records = async (type: string) => (await h!.api<{ records: Record[] }>(ADMIN, 'GET', `/api/audit?type=${type}&limit=500`)).body.records;
/** Attempts the records stand for: a first one for itself, a folded one for the repeats it counts. */
const attempts = (list: Record[]) => list.reduce((sum, r) => sum + (r.data.repeated ?? 1), 0);

/** One agent connection that names `roomId` and signs its proof with a key the room never enrolled. */
function badProof(url: string, roomId: string): Promise<'limited' | 'closed' | 'proofFailed'> {
  const stranger = generateKeyPairSync('ed25519').privateKey;
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/agent`);
    ws.on('unexpected-response', (_request, response) => resolve(response.statusCode === 429 ? 'limited' : 'closed'));
    ws.on('error', () => resolve('closed'));
    ws.on('open', () => ws.send(encodeMessage({ type: 'agent.hello', roomId: roomId as never, agentVersion: 'test', platform: 'synthetic' })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; nonce?: string };
      if (message.type === 'agent.challenge') ws.send(encodeMessage({ type: 'agent.proof', signature: sign(null, Buffer.from(agentProofPayload(message.nonce!, roomId)), stranger).toString('base64url') }));
      else resolve('proofFailed');
    });
  });
}

describe('flood control', () => {
  it('folds 500 refused session starts in a second into a handful of records that still count every one', async () => {
    h = await startHarness({ sessionStartRate: { burst: 10, perSecond: 1 }, auditFoldMs: 4000 });
    await h.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
    const { roomId } = await h.room({ name: 'Not yours' });
    const answers = await Promise.all(Array.from({ length: 500 }, () => h!.api<{ error: { code: string } }>(TECH, 'POST', '/api/sessions', { roomId })));
    expect(new Set(answers.map((a) => a.body.error.code))).toEqual(new Set(['not_permitted', 'rate_limited']));
    expect((await records('session.refused')).length).toBeLessThanOrEqual(5);

    // When the window closes, the repeats arrive as one record each kind, with their count.
    await expect.poll(async () => attempts(await records('session.refused')), { timeout: 8000 }).toBe(500);
    const folded = await records('session.refused');
    expect(folded.length).toBeLessThanOrEqual(5);
    expect(folded.filter((r) => r.data.repeated)).toEqual(expect.arrayContaining([expect.objectContaining({ data: expect.objectContaining({ code: 'rate_limited' }) })]));
  });

  it('lets 300 unauthenticated bad proofs write a handful of records, and counts them all', async () => {
    h = await startHarness({ auditFoldMs: 1500 });
    const { roomId } = await h.room({ name: 'Target' });
    const outcomes = await Promise.all(Array.from({ length: 300 }, () => badProof(h!.server.url, roomId)));
    // Past the burst, the hub refuses the upgrade itself; every connection it took sent its bad proof.
    const limited = outcomes.filter((o) => o === 'limited').length;
    expect(outcomes.filter((o) => o === 'proofFailed').length).toBeGreaterThan(0);
    expect((await records('agent.proofFailed')).length).toBeLessThanOrEqual(2);
    await expect.poll(async () => attempts(await records('agent.proofFailed')), { timeout: 5000 }).toBe(300 - limited);
    expect((await records('agent.proofFailed')).length).toBeLessThanOrEqual(2);
    // The room's own agent still gets in.
    expect((await h.api<{ online: boolean }>(ADMIN, 'GET', `/api/rooms/${roomId}`)).body.online).toBe(true);
  });

  it('caps the sockets one address may hold open and open per second, before a byte of protocol', async () => {
    h = await startHarness({ agentLimits: { socketsPerAddress: 5, connectsPerAddress: { burst: 1000, perSecond: 1000 } }, consoleLimits: { socketsPerAddress: 100, connectsPerAddress: { burst: 3, perSecond: 0.001 } } });
    const open = (path: string) =>
      new Promise<WebSocket | number>((resolve) => {
        const ws = new WebSocket(`${h!.server.url.replace(/^http/, 'ws')}${path}`, path === '/console' ? { headers: { authorization: `Bearer ${token}` } } : {});
        ws.on('open', () => resolve(ws));
        ws.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      });
    const token = await h.token(TECH);
    const held = await Promise.all(Array.from({ length: 5 }, () => open('/agent')));
    expect(held.every((ws) => ws instanceof WebSocket)).toBe(true);
    expect(await open('/agent')).toBe(429);
    (held[0] as WebSocket).close();
    await expect.poll(async () => {
      const next = await open('/agent');
      if (next instanceof WebSocket) next.close();
      return next instanceof WebSocket;
    }).toBe(true);

    const consoles = [await open('/console'), await open('/console'), await open('/console'), await open('/console')];
    expect(consoles.map((c) => (c instanceof WebSocket ? 'open' : c))).toEqual(['open', 'open', 'open', 429]);
    for (const ws of [...held, ...consoles]) if (ws instanceof WebSocket) ws.close();
  });

  it('survives a client that resets its connection the moment an upgrade is refused', async () => {
    h = await startHarness({ agentLimits: { socketsPerAddress: 100, connectsPerAddress: { burst: 1000, perSecond: 1000 } } });
    const { port } = new URL(h.server.url);
    // Refused three ways: no such hub, a console without a token, and a second look at both; each client resets on the answer.
    for (const path of ['/nowhere', '/console', '/nowhere', '/console']) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`));
        socket.once('data', () => {
          socket.resetAndDestroy();
          resolve();
        });
        socket.on('error', () => resolve());
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  });
});

describe('agents coming back all at once', () => {
  /** Opens an agent socket that never says hello: a handshake in progress until it closes. */
  const silent = (url: string) =>
    new Promise<{ status: number; ws: WebSocket | null }>((resolve) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/agent`);
      ws.on('open', () => resolve({ status: 101, ws }));
      ws.on('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0, ws: null }));
      ws.on('error', () => undefined);
    });

  it('lines up connections past the handshakes in progress, takes each in turn as a slot frees, and refuses (503) past the line', async () => {
    h = await startHarness({ agentHandshakes: 2, agentHandshakesWaiting: 1 });
    const { agent } = await h.room({ name: 'Back from a lost node' });
    await agent.close();
    const proving = await Promise.all([silent(h.server.url), silent(h.server.url)]);
    expect(proving.map((c) => c.status)).toEqual([101, 101]);
    // In line: its socket is open, its hello waits, and it hears nothing yet.
    let welcomed = false;
    const welcome = agent.connect().then((m) => ((welcomed = true), m));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(welcomed).toBe(false);
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    // Past the line: refused before the upgrade.
    expect((await silent(h.server.url)).status).toBe(503);
    proving[0]!.ws!.close();
    expect((await welcome).type).toBe('agent.welcome');
    // A proven agent no longer counts: its slot is free again.
    await expect.poll(() => h!.server.services.agents.handshaking).toBe(1);
    const next = await silent(h.server.url);
    expect(next.status).toBe(101);
    next.ws!.close();
    proving[1]!.ws!.close();
    await expect.poll(() => h!.server.services.agents.handshaking).toBe(0);
  });

  it('sends a connection that waited too long in line away to try again later (1013), and closes one that took its slot but does not prove its key in time (4408)', async () => {
    h = await startHarness({ agentHandshakes: 1, agentHandshakesWaiting: 5, agentHandshakeTimes: { waitMs: 400, proveMs: 800 } });
    const closedWith = (ws: WebSocket) => new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const proving = await silent(h.server.url);
    const waiting = await silent(h.server.url);
    expect([proving.status, waiting.status]).toEqual([101, 101]);
    const [provingClosed, waitingClosed] = [closedWith(proving.ws!), closedWith(waiting.ws!)];
    expect(await waitingClosed).toBe(1013);
    expect(await provingClosed).toBe(4408);
    // Neither holds a slot afterwards.
    await expect.poll(() => h!.server.services.agents.handshaking).toBe(0);
    const { agent } = await h.room({ name: 'After the timeouts' });
    await agent.close();
    expect((await agent.connect()).type).toBe('agent.welcome');
    await agent.close();
  });

  it('closes a connection in line that says more than hello, instead of holding its messages', async () => {
    h = await startHarness({ agentHandshakes: 1, agentHandshakesWaiting: 5 });
    const proving = await silent(h.server.url);
    expect(proving.status).toBe(101);
    const { ws } = await silent(h.server.url);
    const closed = new Promise<number>((resolve) => ws!.on('close', (code) => resolve(code)));
    const hello = encodeMessage({ type: 'agent.hello', roomId: 'room-x' as never, agentVersion: 'test', platform: 'synthetic' });
    ws!.send(hello);
    ws!.send(hello);
    // Closed while still in line (the slot is still taken), not once its messages are read.
    expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('still open'), 1000))])).toBe(4401);
    expect(proving.ws!.readyState).toBe(WebSocket.OPEN);
    proving.ws!.close();
  });
});
