import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHaproxy, type Haproxy } from '../../../scripts/services/haproxy';
import { TestAgent } from './agent-client';
import { ADMIN, startHarness, type Harness } from './harness';

/**
 * The server behind a real HAProxy (Debian): HTTP and both WebSocket hubs
 * through it, and the client's own address, not the balancer's, behind the
 * per-address caps and in the audit. A client that talks to the server
 * directly cannot choose its address with a forged `X-Forwarded-For`.
 * Clients come from distinct loopback addresses (127.0.0.2, …), as rooms
 * from distinct sites would.
 */

let h: Harness;
let proxy: Haproxy;

beforeAll(async () => {
  // One agent socket per client address, so that whose address counts is plain to see.
  h = await startHarness({ trustedProxies: ['127.0.0.1'], agentLimits: { socketsPerAddress: 1, connectsPerAddress: { burst: 100, perSecond: 100 } } });
  proxy = await startHaproxy({ dir: mkdtempSync(join(tmpdir(), 'roomlink-haproxy-')), nodes: [new URL(h.server.url).host] });
});
afterAll(async () => {
  await proxy?.close();
  await h?.close();
});

/** Opens an agent socket from `localAddress` (through the balancer unless `url` says otherwise); resolves with the upgrade's status. */
function agentSocket(localAddress: string, url = proxy.url, headers: Record<string, string> = {}): Promise<{ status: number; ws: WebSocket | null }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/agent`, { localAddress, headers });
    ws.once('open', () => resolve({ status: 101, ws }));
    // A refused upgrade: ws leaves the request to us, and its socket is reset after the answer.
    ws.once('unexpected-response', (upgrade, response) => {
      upgrade.on('error', () => undefined);
      upgrade.destroy();
      resolve({ status: response.statusCode ?? 0, ws: null });
    });
    ws.on('error', () => resolve({ status: 0, ws: null }));
  });
}

describe('behind HAProxy', () => {
  it('admits each site by its own address, not the balancer’s: one socket each for 127.0.0.2 and 127.0.0.3, a second from 127.0.0.2 refused', async () => {
    const first = await agentSocket('127.0.0.2');
    const other = await agentSocket('127.0.0.3');
    const second = await agentSocket('127.0.0.2');
    expect([first.status, other.status, second.status]).toEqual([101, 101, 429]);
    first.ws?.close();
    other.ws?.close();
  });

  it('ignores X-Forwarded-For from anyone but the balancer: a direct client cannot pose as another address', async () => {
    const first = await agentSocket('127.0.0.4', h.server.url, { 'x-forwarded-for': '203.0.113.7' });
    const second = await agentSocket('127.0.0.4', h.server.url, { 'x-forwarded-for': '203.0.113.8' });
    expect([first.status, second.status]).toEqual([101, 429]);
    first.ws?.close();
  });

  it('carries a whole enrollment and agent handshake through, and the audit names the room’s address', async () => {
    const room = await h.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Behind the balancer', locationId: null, tags: [], platform: 'synthetic', license: 'pro' });
    const { code } = (await h.api<{ code: string }>(ADMIN, 'POST', `/api/rooms/${room.body.id}/enrollment-code`)).body;
    const agent = new TestAgent(proxy.url);
    const body = JSON.stringify({ code, publicKey: agent.keys.publicKeyRaw, platform: 'synthetic', agentVersion: 'test' });
    // From 127.0.0.5, as a room at another site would enroll.
    const status = await new Promise<number>((resolve, reject) => {
      const post = request(`${proxy.url}/api/agent/enroll`, { method: 'POST', localAddress: '127.0.0.5', headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      post.on('error', reject);
      post.end(body);
    });
    expect(status).toBe(200);
    agent.roomId = room.body.id;
    expect(await agent.connect()).toMatchObject({ type: 'agent.welcome', roomId: room.body.id });
    const records = (await h.api<{ records: { roomId: string; data: { address?: string } }[] }>(ADMIN, 'GET', '/api/audit?type=room.enrolled&limit=50')).body.records;
    expect(records.find((r) => r.roomId === room.body.id)?.data.address).toBe('127.0.0.5');
    await agent.close();
  });
});
