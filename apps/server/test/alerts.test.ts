import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Delivery, HealthSignals } from '@roomlink/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSignIn } from '../../../scripts/dev-idp/signin';
import { DELIVERY_CLAIM_MS, MAX_ATTEMPTS } from '../src/alerts/alerts';
import { startMailCatcher, type MailCatcher } from '../src/alerts/mail-catcher';
import { devTenants } from '../../../scripts/dev-idp/accounts';
import { defaultTimings, startServer, type RunningServer } from '../src/server';
import { TestAgent } from './agent-client';
import { ADMIN, OUTSIDER, startHarness, TECH, type Harness } from './harness';
import { testStoreConfig } from './postgres';
import { killableServers } from './process-fixture';

/**
 * Alerts end to end: a real SMTP server (smtp-server) and a real HTTP
 * receiver that checks each webhook's signature. Retries on 500, a dead
 * letter, a webhook disabled after repeated failure, and a server killed
 * in the middle of a delivery that loses nothing and sends nothing twice.
 */

const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };
type Received = { key: string; event: string; verified: boolean; body: string };

/** A webhook receiver: answers each request with the next scripted status (then 200), or holds it while `hold` is set. */
class Receiver {
  readonly received: Received[] = [];
  script: number[] = [];
  hold = false;
  secret = '';
  private readonly server: Server;
  private held: ServerResponse[] = [];
  url = '';

  constructor() {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const expected = `sha256=${createHmac('sha256', this.secret).update(`${String(request.headers['x-roomlink-timestamp'])}.${body}`).digest('hex')}`;
        const given = String(request.headers['x-roomlink-signature'] ?? '');
        const verified = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
        this.received.push({ key: String(request.headers['idempotency-key']), event: (JSON.parse(body) as { event?: string }).event ?? 'teams', verified, body });
        if (this.hold) {
          this.held.push(response);
          return;
        }
        response.writeHead(this.script.shift() ?? 200).end();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let catcher: MailCatcher;
let receiver: Receiver;
let h: Harness;

beforeAll(async () => {
  catcher = await startMailCatcher();
  receiver = new Receiver();
  await receiver.listen();
  h = await startHarness({ smtp: { host: '127.0.0.1', port: catcher.port, secure: false, from: 'roomlink@contoso.test' }, incidentEveryMs: 50, alertEveryMs: 50 });
});
afterAll(async () => {
  await h.close();
  await receiver.close();
  await catcher.close();
});

/** A room whose display fails, with the server's clock moved past the rule's two minutes. */
async function failingRoom(harness: Harness, name: string): Promise<TestAgent> {
  const { roomId, agent } = await harness.room({ name });
  agent.send({ type: 'agent.health', signals: { ...ok, display: 'error' }, displays: [] });
  // The failure is timed from when the server took the report: the clock moves only once it is recorded.
  await expect.poll(async () => (await harness.api<{ signals: HealthSignals | null }>(ADMIN, 'GET', `/api/rooms/${roomId}`)).body.signals?.display, { timeout: 5_000 }).toBe('error');
  harness.clock.offsetMs += 3 * 60_000;
  return agent;
}
const deliveries = (harness: Harness) => harness.api<Delivery[]>(ADMIN, 'GET', '/api/alerts/deliveries').then((r) => r.body);
/** The attempts the server has recorded for the delivery to a webhook. */
const recordedAttempts = async (harness: Harness, webhookId: string) => (await deliveries(harness)).find((d) => d.channel === 'webhook' && d.target === webhookId)?.attempts;

describe('alert rules and webhooks', () => {
  it('refuse what cannot work, with a clear error', async () => {
    const refused = async (path: string, body: unknown) => (await h.api<{ error: { code: string; details?: string[] } }>(ADMIN, 'POST', path, body)).body.error;
    expect(await refused('/api/alerts/webhooks', { name: 'ftp', url: 'ftp://example.com/x' })).toMatchObject({ code: 'bad_request' });
    expect(await refused('/api/alerts/webhooks', { name: 'js', url: 'javascript:alert(1)' })).toMatchObject({ code: 'bad_request' });
    expect(await refused('/api/alerts/webhooks', { name: 'self', url: `${h.server.url}/api/rooms` })).toMatchObject({ details: ['A webhook cannot point at this Roomlink server itself.'] });
    expect(await refused('/api/alerts/webhooks', { name: 'creds', url: 'http://user:pw@example.com/x' })).toMatchObject({ details: [expect.stringContaining('no user name or password')] });
    expect(await refused('/api/alerts/rules', { name: 'nowhere' })).toMatchObject({ details: ['An alert rule needs at least one email address or webhook.'] });
    expect(await refused('/api/alerts/rules', { name: 'ghost', webhookIds: ['hook-nope'] })).toMatchObject({ details: ['No such webhook: hook-nope.'] });
    expect(await refused('/api/alerts/rules', { name: 'bad', emails: ['not an email'] })).toMatchObject({ code: 'bad_request' });
    expect(await refused('/api/alerts/rules', { name: 'bad', emails: ['a@b.test'], severities: ['apocalyptic'] })).toMatchObject({ code: 'bad_request' });
    expect((await h.api(TECH, 'POST', '/api/alerts/rules', { name: 'mine', emails: ['t@contoso.test'] })).status).toBe(403);
  });

  it('send an opened incident by email over SMTP and to a webhook with a signature the receiver verifies; retry a 500 with backoff', async () => {
    const created = await h.api<{ webhook: { id: string }; secret: string }>(ADMIN, 'POST', '/api/alerts/webhooks', { name: 'Ops', url: receiver.url });
    expect(created.status).toBe(201);
    receiver.secret = created.body.secret;
    expect((await h.api(ADMIN, 'POST', '/api/alerts/rules', { name: 'Critical to ops', severities: ['critical'], emails: ['it@contoso.test'], webhookIds: [created.body.webhook.id] })).status).toBe(201);
    receiver.script = [500, 500];

    await failingRoom(h, 'Alert room');
    await expect.poll(() => catcher.mail().length, { timeout: 5_000 }).toBe(1);
    expect(catcher.mail()[0]).toMatchObject({ from: 'roomlink@contoso.test', to: ['it@contoso.test'], subject: '[Roomlink] Critical: Display failing in Alert room — opened' });

    // Two 500s, each retried once the backoff has passed on the server's clock.
    await expect.poll(() => receiver.received.length, { timeout: 5_000 }).toBe(1);
    for (const expected of [2, 3]) {
      // The server sets the next try when it records the failure: a clock moved before that would put it a backoff of real time away.
      await expect.poll(() => recordedAttempts(h, created.body.webhook.id), { timeout: 5_000 }).toBe(expected - 1);
      h.clock.offsetMs += 60_000;
      await expect.poll(() => receiver.received.length, { timeout: 5_000 }).toBe(expected);
    }
    expect(receiver.received.every((r) => r.verified && r.event === 'incident.opened')).toBe(true);
    expect(new Set(receiver.received.map((r) => r.key)).size).toBe(1);
    const hook = (await deliveries(h)).find((d) => d.channel === 'webhook')!;
    await expect.poll(async () => (await deliveries(h)).find((d) => d.id === hook.id)?.state).toBe('delivered');
    const attempts = await h.api<{ status: string }[]>(ADMIN, 'GET', `/api/alerts/deliveries/${hook.id}/attempts`);
    expect(attempts.body.map((a) => a.status)).toEqual(['HTTP 500', 'HTTP 500', 'HTTP 200']);
    // Another tenant's administrator sees none of it (rule 13).
    expect((await h.api(OUTSIDER, 'GET', `/api/alerts/deliveries/${hook.id}/attempts`)).status).toBe(400);
    expect((await h.api(OUTSIDER, 'GET', '/api/alerts/deliveries')).body).toEqual([]);
    expect((await h.api(OUTSIDER, 'GET', '/api/alerts/webhooks')).body).toEqual([]);
  });

  it('give a delivery up after the last attempt, and disable a webhook that keeps failing, saying why', async () => {
    const failing = new Receiver();
    await failing.listen();
    try {
      const created = await h.api<{ webhook: { id: string } }>(ADMIN, 'POST', '/api/alerts/webhooks', { name: 'Broken', url: failing.url, format: 'teams' });
      // Display failures only: the rooms of earlier tests go offline as the clock jumps, and their incidents are not this test's.
      await h.api(ADMIN, 'POST', '/api/alerts/rules', { name: 'To the broken one', webhookIds: [created.body.webhook.id], causes: ['signal.display'], onResolve: false });
      failing.script = Array(100).fill(500);
      await failingRoom(h, 'Dead letter room');
      const forThisRoom = () => failing.received.filter((r) => r.body.includes('Dead letter room')).length;
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt += 1) {
        await expect.poll(forThisRoom, { timeout: 5_000 }).toBe(attempt);
        // The server sets the next try when it records the failure: a clock moved before that would put it a backoff of real time away.
        await expect.poll(() => recordedAttempts(h, created.body.webhook.id), { timeout: 5_000 }).toBe(attempt);
        // Past the longest backoff of this attempt (2 s doubling, plus jitter).
        h.clock.offsetMs += 3 * 60_000;
      }
      await expect.poll(async () => (await deliveries(h)).find((d) => d.target === created.body.webhook.id)?.state, { timeout: 5_000 }).toBe('dead');
      expect(JSON.parse(failing.received[0]!.body)).toMatchObject({ '@type': 'MessageCard', title: 'Critical: Display failing in Dead letter room' });

      await failingRoom(h, 'Second failing room');
      h.clock.offsetMs += 60_000;
      await failingRoom(h, 'Third failing room');
      await expect.poll(async () => (await h.api<{ id: string; disabledReason: string | null }[]>(ADMIN, 'GET', '/api/alerts/webhooks')).body.find((w) => w.id === created.body.webhook.id)?.disabledReason, { timeout: 10_000 }).toMatch(
        /^10 deliveries in a row failed; the last: HTTP 500$/,
      );
      const records = await h.api<{ records: { type: string }[] }>(ADMIN, 'GET', '/api/audit?type=webhook.disabled');
      expect(records.body.records).toHaveLength(1);
    } finally {
      await failing.close();
    }
  });
});

describe('a server killed in the middle of a delivery', () => {
  const servers = killableServers('roomlink-alerts-kill-');

  it('sends it again after the restart with the same idempotency key: nothing lost, and the receiver can drop the repeat', async () => {
    const hung = new Receiver();
    await hung.listen();
    hung.hold = true;
    // The incident and its deliveries are made by a server in this process whose clock starts three minutes behind:
    // the display fails "three minutes ago", and the incident opens, due for delivery, at the real now.
    const clock = { offsetMs: -3 * 60_000 };
    const idp = servers.idp();
    const dataDir = join(servers.dir, 'server');
    let inProcess: RunningServer | null = await startServer({
      dataDir,
      store: await testStoreConfig(dataDir),
      tenants: devTenants,
      host: '127.0.0.1',
      port: 0,
      auth: { issuer: idp.issuer, audience: 'api://roomlink', acceptedTypes: ['at+jwt', 'JWT'], groupsClaim: 'groups', caPem: idp.caPem },
      ...defaultTimings,
      incidentEveryMs: 50,
      alertEveryMs: 3_600_000,
      logLevel: 'silent',
      now: () => new Date(Date.now() + clock.offsetMs),
    });
    const admin = `Bearer ${(await devSignIn(idp.issuer, idp.caPem, ADMIN)).accessToken}`;
    const call = async <T>(url: string, method: string, path: string, body?: unknown): Promise<T> =>
      (await (await fetch(`${url}${path}`, { method, headers: { authorization: admin, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })).json()) as T;
    try {
      const hook = await call<{ webhook: { id: string }; secret: string }>(inProcess.url, 'POST', '/api/alerts/webhooks', { name: 'Hung', url: hung.url });
      hung.secret = hook.secret;
      await call(inProcess.url, 'POST', '/api/alerts/rules', { name: 'All', webhookIds: [hook.webhook.id] });
      const room = await call<{ id: string }>(inProcess.url, 'POST', '/api/rooms', { name: 'Killed mid-delivery' });
      const code = await call<{ code: string }>(inProcess.url, 'POST', `/api/rooms/${room.id}/enrollment-code`);
      const agent = new TestAgent(inProcess.url);
      await agent.enroll(code.code);
      await agent.connect();
      agent.send({ type: 'agent.health', signals: { ...ok, display: 'error' }, displays: [] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      clock.offsetMs = 0;
      await expect.poll(async () => (await call<Delivery[]>(inProcess!.url, 'GET', '/api/alerts/deliveries')).length, { timeout: 5_000 }).toBe(1);
      await agent.close();
      await inProcess.close();
      inProcess = null;

      // The real server picks the delivery up, and dies while the receiver holds the request.
      const first = await servers.start(dataDir);
      await expect.poll(() => hung.received.length, { timeout: 10_000 }).toBe(1);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));

      hung.hold = false;
      // The dead server's claim on the delivery lapses, and the one running now sends it.
      const second = await servers.start(dataDir);
      await expect.poll(async () => (await call<Delivery[]>(second.url, 'GET', '/api/alerts/deliveries'))[0]?.state, { timeout: DELIVERY_CLAIM_MS + 10_000 }).toBe('delivered');
      // Sent twice (the first answer never came), as one delivery: the receiver drops the repeat by its key.
      expect(hung.received.map((r) => r.key)).toEqual([hung.received[0]!.key, hung.received[0]!.key]);
      expect(hung.received.every((r) => r.verified)).toBe(true);
      expect(await call<Delivery[]>(second.url, 'GET', '/api/alerts/deliveries')).toHaveLength(1);
    } finally {
      await inProcess?.close();
      await hung.close();
    }
  }, 60_000);
});
