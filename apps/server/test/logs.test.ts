import { gunzipSync, gzipSync } from 'node:zlib';
import { LOG_BUNDLE_MAX_BYTES } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAgent } from './agent-client';
import { ADMIN, startHarness, TECH, type Harness } from './harness';

/** Collect logs outside a session: asked by a room manager, uploaded once by the room with its one-time token, downloaded, audited. */

let h: Harness;
type Bundle = { id: string; status: string; size: number | null; problem: string | null };
type Failure = { error?: { code: string } };

const upload = (bundleId: string, token: string, body: Buffer, contentType = 'application/gzip') =>
  fetch(`${h.server.url}/api/agent/logs/${bundleId}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: new Uint8Array(body) });

async function ask(roomId: string, agent: TestAgent) {
  const asked = await h.api<Bundle>(ADMIN, 'POST', `/api/rooms/${roomId}/logs`);
  expect(asked).toMatchObject({ status: 202, body: { status: 'requested' } });
  const action = await agent.next('device.action');
  expect(action).toMatchObject({ action: 'collectLogs', upload: { bundleId: asked.body.id } });
  return { bundleId: asked.body.id, token: action.upload!.token };
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('collect logs', () => {
  it('asks the room, takes its upload once, and serves the very bytes back for download; both steps audited', async () => {
    const { roomId, agent } = await h.room({ name: 'Logs room' });
    const { bundleId, token } = await ask(roomId, agent);
    const content = gzipSync(JSON.stringify({ platform: 'synthetic', recentLog: ['one', 'two'] }));
    expect((await upload(bundleId, token, content)).status).toBe(200);
    expect((await upload(bundleId, token, content)).status).toBe(403);

    const [listed] = (await h.api<Bundle[]>(ADMIN, 'GET', `/api/rooms/${roomId}/logs`)).body;
    expect(listed).toMatchObject({ id: bundleId, status: 'ready', size: content.length });
    const download = await fetch(`${h.server.url}/api/rooms/${roomId}/logs/${bundleId}`, { headers: { authorization: `Bearer ${await h.token(ADMIN)}` } });
    expect(download.headers.get('content-type')).toBe('application/gzip');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="Logs_room-.+\.json\.gz"$/);
    expect(JSON.parse(gunzipSync(Buffer.from(await download.arrayBuffer())).toString())).toEqual({ platform: 'synthetic', recentLog: ['one', 'two'] });

    const records = (await h.api<{ records: { type: string; actorName: string | null; data: Record<string, unknown> }[] }>(ADMIN, 'GET', `/api/audit?roomId=${roomId}`)).body.records;
    expect(records.filter((r) => r.type.startsWith('room.logs')).map((r) => [r.type, r.actorName, r.data.bundleId])).toEqual([
      ['room.logsCollected', null, bundleId],
      ['room.logsRequested', 'Adele Admin', bundleId],
    ]);
  });

  it('refuses an upload with a wrong token, one that is not gzip, one over the cap, and one after the window closed (then says the request failed)', async () => {
    const { roomId, agent } = await h.room({ name: 'Strict room' });
    const { bundleId, token } = await ask(roomId, agent);
    expect((await upload(bundleId, 'x'.repeat(43), gzipSync('{}'))).status).toBe(403);
    expect((await upload(bundleId, token, Buffer.from('{"not":"gzip"}'))).status).toBe(400);
    expect((await upload(bundleId, token, Buffer.from('{}'), 'application/json')).status).toBe(400);
    const tooBig = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(LOG_BUNDLE_MAX_BYTES)]);
    expect(await (await upload(bundleId, token, tooBig)).json()).toMatchObject({ error: { code: 'payload_too_large' } });
    h.clock.offsetMs += 3 * 60_000;
    try {
      expect((await upload(bundleId, token, gzipSync('{}'))).status).toBe(403);
      const [listed] = (await h.api<Bundle[]>(ADMIN, 'GET', `/api/rooms/${roomId}/logs`)).body;
      expect(listed).toMatchObject({ status: 'failed', problem: 'The room did not send its logs within 2 minutes.' });
    } finally {
      h.clock.offsetMs -= 3 * 60_000;
    }
  });

  it('is for room managers, of rooms that are online', async () => {
    const { roomId, agent } = await h.room({ name: 'Guarded room' });
    expect((await h.api<Failure>(TECH, 'POST', `/api/rooms/${roomId}/logs`)).status).toBe(403);
    expect((await h.api<Failure>(TECH, 'GET', `/api/rooms/${roomId}/logs`)).status).toBe(403);
    await agent.close();
    await expect.poll(async () => (await h.api<Failure>(ADMIN, 'POST', `/api/rooms/${roomId}/logs`)).body.error?.code).toBe('room_offline');
  });
});
