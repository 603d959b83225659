import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { TestAgent } from './agent-client';
import { ADMIN, startHarness, TECH } from './harness';
import { killableServers } from './process-fixture';

/**
 * Truthful end records after the server dies mid-session: the room's own
 * report (its counts, its end time) when its agent reconnects, and
 * "unknown" when no report ever comes — never a made-up zero.
 */

type Ended = { sessionId: string; data: { input: unknown; endedAt: string | null; durationMs: number | null; reason: string; inputCountsReported?: boolean; startedAt: string } };

const servers = killableServers('roomlink-crash-');

async function serverProcess() {
  const started = await servers.start(join(servers.dir, 'server'));
  const idp = servers.idp();
  const tokens = new Map<string, string>();
  const api = async <T>(user: string, method: string, path: string, body?: unknown): Promise<T> => {
    if (!tokens.has(user)) tokens.set(user, (await devSignIn(idp.issuer, idp.caPem, user)).accessToken);
    const response = await fetch(`${started.url}${path}`, { method, headers: { authorization: `Bearer ${tokens.get(user)}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return (await response.json()) as T;
  };
  return { ...started, api };
}

describe('a server killed mid-session', () => {
  it('writes the room’s own counts and end time once the agent reconnects to the restarted server', async () => {
    const first = await serverProcess();
    await first.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
    await first.api(ADMIN, 'POST', '/api/roles', { name: 'Crash', permissions: ['remoteAccess.modify'], assignments: [{ groups: ['room-technicians'], tags: ['crash'] }] });
    const room = await first.api<{ id: string }>(ADMIN, 'POST', '/api/rooms', { name: 'Crash room', tags: ['crash'] });
    const code = await first.api<{ code: string }>(ADMIN, 'POST', `/api/rooms/${room.id}/enrollment-code`);
    const agent = new TestAgent(first.url);
    await agent.enroll(code.code);
    await agent.connect();
    const { sessionId } = await first.api<{ sessionId: string }>(TECH, 'POST', '/api/sessions', { roomId: room.id });
    await agent.next('session.offer');
    agent.send({ type: 'session.accept', sessionId: sessionId as never });
    agent.send({ type: 'session.active', sessionId: sessionId as never });
    await new Promise((resolve) => setTimeout(resolve, 300));

    first.child.kill('SIGKILL');
    await agent.close();
    // The room carries on for its grace period, the technician types, then the room ends the session itself.
    const endedAt = new Date(Date.now() + 1500).toISOString();

    const second = await serverProcess();
    const back = new TestAgent(second.url, agent.keys);
    back.roomId = agent.roomId;
    expect(await back.connect()).toMatchObject({ type: 'agent.welcome', sessionId: null });
    back.send({ type: 'session.end', sessionId: sessionId as never, reason: 'control_plane_lost', input: { accepted: 5, dropped: 1 }, restarting: false, endedAt });
    expect(await back.next('session.ack')).toMatchObject({ sessionId });
    const ended = (await second.api<{ records: Ended[] }>(ADMIN, 'GET', '/api/audit?type=session.ended')).records.find((r) => r.sessionId === sessionId)!;
    expect(ended.data).toMatchObject({ reason: 'control_plane_lost', input: { accepted: 5, dropped: 1 }, restarted: false, endedAt, durationMs: Date.parse(endedAt) - Date.parse(ended.data.startedAt) });
    expect(ended.data.inputCountsReported).toBeUndefined();
    // A repeat of the report is acknowledged and writes nothing new.
    back.send({ type: 'session.end', sessionId: sessionId as never, reason: 'control_plane_lost', input: { accepted: 5, dropped: 1 }, restarting: false, endedAt });
    expect(await back.next('session.ack')).toMatchObject({ sessionId });
    expect((await second.api<{ records: Ended[] }>(ADMIN, 'GET', '/api/audit?type=session.ended')).records.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
    await back.close();
    second.child.kill('SIGTERM');
  }, 60_000);
});

describe('a session whose room never reports', () => {
  it('is closed with its counts and end time unknown, never zero', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-orphan-'));
    const before = await startHarness({ dataDir, sessionStartRate: { burst: 10, perSecond: 1 } });
    await before.api(ADMIN, 'PUT', '/api/settings/remote-access', { enabled: true, acknowledgingEmail: 'admin@contoso.test' });
    await before.api(ADMIN, 'POST', '/api/roles', { name: 'Orphans', permissions: ['remoteAccess.view'], assignments: [{ groups: ['room-technicians'], tags: ['orphan'] }] });
    const { roomId, agent } = await before.room({ tags: ['orphan'] });
    const started = await before.api<{ sessionId: string }>(TECH, 'POST', '/api/sessions', { roomId });
    await agent.next('session.offer');
    agent.send({ type: 'session.accept', sessionId: started.body.sessionId as never });
    agent.send({ type: 'session.active', sessionId: started.body.sessionId as never });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await before.close();

    const after = await startHarness({ dataDir, orphanReportMs: 300 });
    try {
      const find = async () => (await after.api<{ records: Ended[] }>(ADMIN, 'GET', '/api/audit?type=session.ended')).body.records.find((r) => r.sessionId === started.body.sessionId);
      await expect.poll(find, { timeout: 5000 }).toBeDefined();
      const ended = (await find())!;
      expect(ended.data).toMatchObject({ reason: 'control_plane_lost', input: null, inputCountsReported: false, endedAt: null, durationMs: null, restarted: null });
      expect((await after.api<{ id: string; input: unknown }[]>(ADMIN, 'GET', '/api/sessions')).body.find((s) => s.id === started.body.sessionId)).toMatchObject({ input: null });
    } finally {
      await after.close();
    }
  });
});
