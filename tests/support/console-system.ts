import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrollmentCode, Platform, Room } from '@roomlink/shared';
import type { BrowserContext, Page } from 'playwright-core';
import type { RoomAgent } from '../../apps/room-agent/src/core/agent';
import { startBrowserHost, type RunningBrowserHost } from '../../apps/console/src/host/browser-host';
import { ConsoleHost } from '../../apps/console/src/host/console-host';
import { buildRenderer, type RendererBundle } from '../../apps/console/src/host/renderer-build';
import { ownerOnlyFile } from '../../apps/console/src/host/token-cache';
import { defaultTimings, startServer, type RunningServer } from '../../apps/server/src/server';
import { startRoomAgent } from '../../scripts/demo/agents';
import { apiPoster, seedDemoTenant, type SeededTenant } from '../../scripts/demo/seed';
import { devTenants } from '../../scripts/dev-idp/accounts';
import { API_AUDIENCE, API_SCOPE, DEV_CLIENT_ID, startIdp, type RunningIdp } from '../../scripts/dev-idp/idp';
import { devSignIn } from '../../scripts/dev-idp/signin';
import { launchChromium } from './chromium';
import { allowLoopbackCandidates, loopbackWebRtcArgs } from './session-ui';

export const ADMIN = 'admin@contoso.test';
export const TECH = 'tech@contoso.test';
export const VIEWER = 'viewer@contoso.test';

export interface ConsoleSystem {
  dir: string;
  idp: RunningIdp;
  server: RunningServer;
  tenant: SeededTenant;
  bundle: RendererBundle;
  /** A console host (the code Electron's main runs) with its own data directory, as a separate technician's PC. */
  console(name?: string): Promise<{ host: ConsoleHost; web: RunningBrowserHost; dataDir: string; close(): Promise<void> }>;
  /** The server's API as one of the dev accounts, for setup and for checking what the UI did. */
  api<T>(username: string, method: string, path: string, body?: unknown): Promise<T>;
  chromium(): Promise<BrowserContext>;
  /** A real agent for a room, enrolled with a code the administrator asks for, accepting loopback candidates only. */
  roomAgent(room: Room, options: { platform: Platform; display?: string; restartCommand?: string; graceMs?: number }): Promise<{ agent: RoomAgent; roomStateFile: string }>;
  close(): Promise<void>;
}

/** The local provider, a server on SQLite seeded with the demo tenant, and console hosts on demand. */
/** `clock`: the server's time runs this far ahead of the real one, for rules measured in minutes. */
export async function startConsoleSystem(options: { clock?: { offsetMs: number }; incidentEveryMs?: number } = {}): Promise<ConsoleSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'roomlink-console-'));
  const idp = await startIdp({ dataDir: join(dir, 'idp'), port: 0 });
  const server = await startServer({
    tenants: devTenants,
    dataDir: join(dir, 'server'),
    host: '127.0.0.1',
    port: 0,
    auth: { issuer: idp.issuer, audience: API_AUDIENCE, acceptedTypes: ['at+jwt', 'JWT'], groupsClaim: 'groups', caPem: idp.caPem },
    ...defaultTimings,
    logLevel: 'silent',
    now: () => new Date(Date.now() + (options.clock?.offsetMs ?? 0)),
    ...(options.incidentEveryMs && { incidentEveryMs: options.incidentEveryMs }),
  });
  const tokens = new Map<string, Promise<string>>();
  const token = (username: string) => {
    if (!tokens.has(username)) tokens.set(username, devSignIn(idp.issuer, idp.caPem, username).then((t) => t.accessToken));
    return tokens.get(username)!;
  };
  const tenant = await seedDemoTenant(apiPoster(server.url, await token(ADMIN)));
  const bundle = await buildRenderer({ minify: true });
  const closers: (() => Promise<void>)[] = [];
  async function api<T>(username: string, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: { authorization: `Bearer ${await token(username)}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
    return json as T;
  }
  const log = () => undefined;

  return {
    dir,
    idp,
    server,
    tenant,
    bundle,
    async console(name = 'console') {
      const dataDir = join(dir, name);
      const host = await ConsoleHost.open({
        serverUrl: server.url,
        auth: { clientId: DEV_CLIENT_ID, authority: idp.issuer, scopes: [API_SCOPE], protocolMode: 'OIDC', caPem: idp.caPem },
        dataDir,
        box: ownerOnlyFile,
        deviceName: `test ${name}`,
        helpUrl: '/help',
        log,
      });
      const web = await startBrowserHost({ host, port: 0, bundle, log });
      const close = async () => {
        await web.close();
        await host.close();
      };
      closers.push(close);
      return { host, web, dataDir, close };
    },
    api,
    async chromium() {
      const browser = await launchChromium();
      closers.push(browser.close);
      return browser.context;
    },
    async roomAgent(room, options) {
      const running = await startRoomAgent({
        serverUrl: server.url,
        room,
        dataDir: mkdtempSync(join(dir, 'agent-')),
        platform: options.platform,
        display: options.display,
        enrollmentCode: (r) => api<EnrollmentCode>(ADMIN, 'POST', `/api/rooms/${r.id}/enrollment-code`),
        restartCommand: options.restartCommand ?? 'true',
        graceMs: options.graceMs ?? 5000,
        loopbackOnly: true,
        logLevel: process.env.ROOMLINK_TEST_LOG ?? 'silent',
      });
      closers.push(() => running.agent.stop());
      return running;
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      // A test may have stopped the server already, to see what losing it does.
      await server.close().catch(() => undefined);
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A console page in a Chromium of its own, signed in through the UI, that can
 * reach a loopback-only test agent (see `allowLoopbackCandidates`);
 * `initScripts` run in the page before the console's own code (benchmark instruments).
 */
export async function sessionConsolePage(system: ConsoleSystem, name: string, username: string, initScripts: string[] = []): Promise<{ page: Page; profile: string; close(): Promise<void> }> {
  const { web } = await system.console(name);
  const browser = await launchChromium(loopbackWebRtcArgs);
  for (const script of initScripts) await browser.context.addInitScript(script);
  const page = await browser.context.newPage();
  await page.goto(web.url);
  await signInThroughUi(page, username);
  await allowLoopbackCandidates(page);
  return { page, profile: browser.profile, close: browser.close };
}

/** Signs in through the console's UI as a person would: the button, then the provider's page in the window it opens. */
export async function signInThroughUi(page: Page, username: string): Promise<void> {
  const popup = page.context().waitForEvent('page');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signInPage = await popup;
  await signInPage.getByRole('button', { name: new RegExp(username.replace('.', '\\.')) }).click();
  await page.getByTestId('who').waitFor();
}
