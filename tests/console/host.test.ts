import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { Me, nameOrder, NewerDatabaseError } from '@roomlink/shared';
import Database from 'better-sqlite3';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dispatch } from '../../apps/console/src/api/rpc';
import { API_PROTOCOL, writeLaunchPage } from '../../apps/console/src/host/browser-host';
import { ConsoleCache } from '../../apps/console/src/host/cache';
import { ConsoleHost } from '../../apps/console/src/host/console-host';
import { ownerOnlyFile } from '../../apps/console/src/host/token-cache';
import { API_SCOPE, DEV_CLIENT_ID } from '../../scripts/dev-idp/idp';
import { ADMIN, startConsoleSystem, type ConsoleSystem } from '../support/console-system';

let system: ConsoleSystem;
let browser: BrowserContext;

beforeAll(async () => {
  system = await startConsoleSystem();
  browser = await system.chromium();
});
afterAll(() => system.close());

/** A console host whose sign-in page is answered in Chromium, as a person would in their browser. */
async function hostSignedInAs(username: string, name: string, serverUrl = system.server.url) {
  const opened: string[] = [];
  const host = await ConsoleHost.open({
    serverUrl,
    auth: { clientId: DEV_CLIENT_ID, authority: system.idp.issuer, scopes: [API_SCOPE], protocolMode: 'OIDC', caPem: system.idp.caPem },
    dataDir: join(system.dir, name),
    box: ownerOnlyFile,
    deviceName: name,
    helpUrl: '/help',
    log: () => undefined,
    openBrowser: async (url) => {
      opened.push(url);
      const page = await browser.newPage();
      await page.goto(url);
      await page.getByRole('button', { name: new RegExp(username.replace('.', '\\.')) }).click();
      await page.waitForURL(/^http:\/\/localhost/);
      await page.close();
    },
  });
  return { host, opened };
}

describe('console host', () => {
  it('signs in through msal-node against the local provider and keeps the token to itself', async () => {
    const { host, opened } = await hostSignedInAs(ADMIN, 'signin');
    const status = await host.signIn();
    expect(opened).toHaveLength(1);
    expect(new URL(opened[0]!).searchParams.get('code_challenge_method')).toBe('S256');
    expect(status.account).toMatchObject({ name: 'Adele Admin', username: ADMIN, tenantId: 'contoso', canManageRoles: true });
    expect(JSON.stringify(status)).not.toMatch(/eyJ/);
    expect(statSync(join(system.dir, 'signin', 'token-cache.bin')).mode & 0o777).toBe(0o600);
    await host.close();

    // A restart resumes the sign-in from the token cache, with no page opened.
    const again = await hostSignedInAs(ADMIN, 'signin');
    expect((await again.host.status()).account?.username).toBe(ADMIN);
    expect((await again.host.syncRooms()).rooms).toHaveLength(12);
    expect(again.opened).toHaveLength(0);
    await again.host.signOut();
    await expect(again.host.cachedRooms()).rejects.toMatchObject({ code: 'sign_in_required' });
    await again.host.close();
  });

  it('opens from the cache, marked with the last sync, when the server is down', async () => {
    const online = await hostSignedInAs(ADMIN, 'offline');
    await online.host.signIn();
    const synced = await online.host.syncRooms();
    const page = await online.host.auditPage({ limit: 10 });
    expect(page.cachedAt).toBeNull();
    await online.host.close();

    const offline = await hostSignedInAs(ADMIN, 'offline', 'http://127.0.0.1:9');
    const cached = await offline.host.cachedRooms();
    // Both in the list's order (by name), so the list's own sort finds them in order.
    expect(synced.rooms.map((r) => r.name)).toEqual(synced.rooms.map((r) => r.name).sort(nameOrder.compare));
    expect(cached.rooms.map((r) => r.id)).toEqual(synced.rooms.map((r) => r.id));
    expect(cached.syncedAt).toBe(synced.syncedAt);
    await expect(offline.host.syncRooms()).rejects.toMatchObject({ code: 'server_unreachable' });
    const stale = await offline.host.auditPage({ limit: 10 });
    expect(stale.records).toEqual(page.records);
    expect(stale.cachedAt).not.toBeNull();
    await expect(offline.host.startSession(synced.rooms[0]!.id)).rejects.toMatchObject({ code: 'server_unreachable' });
    await offline.host.close();
  });

  it('refuses garbage from the renderer with a typed error, before any request reaches the server', async () => {
    const { host } = await hostSignedInAs(ADMIN, 'garbage');
    await host.signIn();
    const before = await host.auditPage({ limit: 1 });
    const internal: unknown[] = [];
    const call = (method: unknown, args: unknown) => dispatch(host, method, args, (e) => internal.push(e));
    expect(await call('constructor', [])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('__proto__', [])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('startSession', ['room one; DROP TABLE'])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('setRemoteAccess', [{ enabled: true }])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('setRemoteAccess', [{ enabled: true, acknowledgingEmail: 'not-an-email' }])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('createRole', [{ name: '', permissions: ['root'] }])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('auditPage', [{ limit: 10_000 }])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    // The export has no limit to give: it is every matching record.
    expect(await call('exportAudit', [{ limit: 10_000 }])).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('signOut', 'not a list')).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(internal).toEqual([]);
    const after = await host.auditPage({ limit: 1 });
    expect(after.records[0]?.seq).toBe(before.records[0]?.seq);
    // Server refusals keep their code and message.
    expect(await call('deleteRole', ['pro-manager'])).toEqual({ ok: false, error: { code: 'not_permitted', message: 'You do not have permission to do this.', details: ['Built-in roles are read-only.'] } });
    expect(await call('remoteAccess', [])).toMatchObject({ ok: true, value: { enabled: false } });
    expect(await call('exportAudit', [{ type: 'role.created' }])).toMatchObject({ ok: true, value: { csv: expect.stringMatching(/^seq,at,type/) } });
    await host.close();
  });
});

describe('browser host', () => {
  it('serves the API only to its own page holding the launch key', async () => {
    const { web } = await system.console('gate');
    const key = new URL(web.url).hash.slice('#key='.length);
    const attempt = (protocols: string[], origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${web.origin.replace('http', 'ws')}/api`, protocols, { origin });
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('error', () => resolve('refused'));
      });
    expect(await attempt([API_PROTOCOL, `key.${key}`], web.origin)).toBe('open');
    expect(await attempt([API_PROTOCOL, `key.${key.slice(1)}x`], web.origin)).toBe('refused');
    expect(await attempt([API_PROTOCOL], web.origin)).toBe('refused');
    expect(await attempt([API_PROTOCOL, `key.${key}`], 'http://evil.example')).toBe('refused');

    // DNS rebinding: another site's name resolving to 127.0.0.1 reaches the port but names itself in Host.
    const rebound = await new Promise<number>((resolve) => get(web.origin, { headers: { host: 'rebind.example:80' } }, (res) => resolve(res.statusCode ?? 0)).end());
    expect(rebound).toBe(421);
    const reboundSocket = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${web.origin.replace('http', 'ws')}/api`, [API_PROTOCOL, `key.${key}`], { origin: web.origin, headers: { host: 'rebind.example' } });
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('refused'));
    });
    expect(reboundSocket).toBe('refused');

    const response = await fetch(web.origin);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await response.text()).not.toContain(key);
  });

  it('opens through a page only this account can read, so the launch key never sits on a command line', () => {
    const url = 'http://127.0.0.1:1234/#key=s3cret';
    const page = writeLaunchPage(join(system.dir, 'launch'), url);
    expect(page).not.toContain('s3cret');
    expect(statSync(page).mode & 0o777).toBe(0o600);
    expect(readFileSync(page, 'utf8')).toContain(`location.replace("${url}")`);
    expect(writeLaunchPage(join(system.dir, 'launch'), url)).toBe(page);
  });

  it('bundles zod with its English messages only, not its fifty locales', async () => {
    const { web } = await system.console('bundle');
    const js = await (await fetch(`${web.origin}/app.js`)).text();
    expect(js).toContain('Invalid input');
    expect(js).not.toContain('Ungültige Eingabe');
    expect(js.length).toBeLessThan(800_000);
  });

  it('serves a help page written for technicians, not the developers’ README', async () => {
    const { web } = await system.console('help');
    const response = await fetch(`${web.origin}/help`);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toContain('<h1>Roomlink help</h1>');
    expect(page).toContain('Shortcut commands');
    expect(page).not.toMatch(/npm |vitest|\.ts\b/);
  });

  it('answers malformed calls with an error and stays up', async () => {
    const { web } = await system.console('malformed');
    const key = new URL(web.url).hash.slice('#key='.length);
    const ws = new WebSocket(`${web.origin.replace('http', 'ws')}/api`, [API_PROTOCOL, `key.${key}`], { origin: web.origin });
    const replies: unknown[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(String(data))));
    await new Promise((resolve) => ws.on('open', resolve));
    for (const frame of ['{', '[]', 'null', JSON.stringify({ id: 1, method: 'status' }), JSON.stringify({ id: 2, method: 'nope', args: [] }), JSON.stringify({ id: 3, method: 'status', args: [] })]) ws.send(frame);
    await expect.poll(() => replies.length).toBe(6);
    expect(replies.slice(0, 4)).toEqual(Array(4).fill({ id: -1, ok: false, error: { code: 'bad_request', message: 'Not a console API call.' } }));
    expect(replies[4]).toMatchObject({ id: 2, ok: false, error: { code: 'bad_request' } });
    expect(replies[5]).toMatchObject({ id: 3, ok: true, value: { account: null } });
    ws.close();
  });
});

describe('console cache', () => {
  it('migrates a new file and refuses one from a newer version', () => {
    const file = join(system.dir, 'cache-versions.sqlite');
    new ConsoleCache(file).close();
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()).toEqual([{ name: 'documents' }]);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new ConsoleCache(file)).toThrow(NewerDatabaseError);
  });

  it('keeps the cache, its WAL and shared memory 0600 in a directory that was already 0755', () => {
    const dir = join(system.dir, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const cache = new ConsoleCache(join(dir, 'cache.sqlite'));
    cache.replaceRooms('alice', [], '2026-01-01T00:00:00.000Z');
    for (const name of ['cache.sqlite', 'cache.sqlite-wal', 'cache.sqlite-shm']) expect([name, statSync(join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
    cache.close();
  });

  it('keeps each account apart and drops rows that no longer fit their schema', () => {
    const cache = new ConsoleCache(':memory:');
    const room = system.tenant.rooms[0]!;
    cache.replaceRooms('alice', [room], '2026-01-01T00:00:00.000Z');
    expect(cache.rooms('alice')).toEqual({ rooms: [room], syncedAt: '2026-01-01T00:00:00.000Z' });
    expect(cache.rooms('bob')).toEqual({ rooms: [], syncedAt: null });
    cache.write('alice', 'me', { not: 'a profile' }, '2026-01-01T00:00:00.000Z');
    expect(cache.read('alice', 'me', Me)).toBeNull();
    cache.forget('alice');
    expect(cache.rooms('alice').rooms).toEqual([]);
    cache.close();
  });

  it('keeps rooms in name order as people read it: Room 2 before Room 10, case aside', () => {
    const cache = new ConsoleCache(':memory:');
    const room = system.tenant.rooms[0]!;
    const named = ['Room 10', 'room 2', 'Annex', 'Room 1'].map((name, i) => ({ ...room, id: `${room.id}-${i}` as typeof room.id, name }));
    expect(cache.replaceRooms('alice', named, '2026-01-01T00:00:00.000Z').map((r) => r.name)).toEqual(['Annex', 'Room 1', 'room 2', 'Room 10']);
    expect(cache.rooms('alice').rooms.map((r) => r.name)).toEqual(['Annex', 'Room 1', 'room 2', 'Room 10']);
    cache.close();
  });
});
