import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../../scripts/build-console';
import { APP_ORIGIN, externalUrlAllowed, isTrustedSender, permissionAllowed, webPreferences } from '../src/main/security';
import { consoleSettings } from '../src/main/settings';

describe('Electron window security', () => {
  it('runs the renderer isolated, sandboxed and without Node', () => {
    expect(webPreferences('/app/preload.cjs')).toEqual({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    });
  });

  it('answers IPC only from the console page’s main frame', () => {
    expect(isTrustedSender(`${APP_ORIGIN}/`, true)).toBe(true);
    expect(isTrustedSender(`${APP_ORIGIN}/index.html`, true)).toBe(true);
    expect(isTrustedSender(`${APP_ORIGIN}/`, false)).toBe(false);
    expect(isTrustedSender('https://evil.example/', true)).toBe(false);
    expect(isTrustedSender('app://console.evil/', true)).toBe(false);
    expect(isTrustedSender('file:///etc/passwd', true)).toBe(false);
    expect(isTrustedSender(undefined, true)).toBe(false);
    expect(isTrustedSender('not a url', true)).toBe(false);
  });

  it('grants full screen and nothing else, and hands only https links to the system browser', () => {
    expect(permissionAllowed('fullscreen')).toBe(true);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'display-capture', 'openExternal']) expect(permissionAllowed(permission)).toBe(false);
    expect(externalUrlAllowed('https://login.microsoftonline.com/x')).toBe(true);
    for (const url of ['http://example.com', 'file:///c:/windows', 'javascript:alert(1)', 'smb://host/share', '']) expect(externalUrlAllowed(url)).toBe(false);
  });

  it('defaults to the local system and switches to Entra ID by its authority', () => {
    expect(consoleSettings({})).toMatchObject({ serverUrl: 'http://127.0.0.1:47800', auth: { authority: 'https://127.0.0.1:47801', protocolMode: 'OIDC', clientId: 'roomlink-console' } });
    const entra = consoleSettings({ ROOMLINK_SERVER: 'https://roomlink.contoso.com', ROOMLINK_AUTHORITY: 'https://login.microsoftonline.com/tenant-id', ROOMLINK_CLIENT_ID: 'app-id', ROOMLINK_SCOPE: 'api://api-id/access_as_user' });
    expect(entra).toMatchObject({ serverUrl: 'https://roomlink.contoso.com', auth: { protocolMode: 'AAD', clientId: 'app-id', scopes: ['api://api-id/access_as_user'] } });
  });
});

describe('Electron build', () => {
  let out: string;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'roomlink-console-build-'));
    await buildConsole(out);
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const requires = (file: string) => new Set([...readFileSync(join(out, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!));
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

  it('makes a sandbox-compatible preload that needs nothing but Electron', () => {
    expect([...requires('electron/preload.cjs')]).toEqual(['electron']);
  });

  it('bundles the main process with only Electron and native modules left outside', () => {
    const outside = [...requires('electron/main.cjs')].filter((name) => !builtins.has(name));
    // bufferutil and utf-8-validate are optional speed-ups ws tries to load inside a try.
    expect(outside.sort()).toEqual(['better-sqlite3', 'bufferutil', 'electron', 'utf-8-validate']);
    expect(readFileSync(join(out, 'electron/main.cjs'), 'utf8')).not.toMatch(/esbuild|react-dom/);
  });

  it('writes the renderer with its CSP', () => {
    expect(readFileSync(join(out, 'renderer/index.html'), 'utf8')).toContain(`script-src 'self'`);
    expect(readFileSync(join(out, 'renderer/app.js'), 'utf8').length).toBeGreaterThan(100_000);
  });
});
