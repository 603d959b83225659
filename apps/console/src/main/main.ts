import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, protocol, safeStorage, session, shell } from 'electron';
import { dispatch } from '../api/rpc';
import { ConsoleHost } from '../host/console-host';
import { contentSecurityPolicy, rendererHtml } from '../host/renderer-page';
import { ownerOnlyFile, type SecretBox } from '../host/token-cache';
import { consoleSettings } from './settings';
import { APP_ORIGIN, externalUrlAllowed, isTrustedSender, permissionAllowed, webPreferences } from './security';

/**
 * Electron's main process: wiring only. The logic is the same `ConsoleHost`
 * the browser host runs; this file adds the window, the IPC transport and
 * `safeStorage` for the token cache.
 */

protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const safeStorageBox: SecretBox = {
  protected: true,
  seal: (text) => safeStorage.encryptString(text),
  open: (sealed) => safeStorage.decryptString(sealed),
};
const log = (message: string, error?: unknown) => console.error(`[console] ${message}`, error ?? '');

async function main(): Promise<void> {
  await app.whenReady();
  const settings = consoleSettings(process.env);
  const csp = contentSecurityPolicy('');
  const rendererDir = join(__dirname, '..', 'renderer');
  protocol.handle('app', async (request) => {
    const path = new URL(request.url).pathname;
    const headers = { 'content-security-policy': csp, 'x-content-type-options': 'nosniff' };
    if (path === '/' || path === '/index.html') return new Response(rendererHtml(csp), { headers: { ...headers, 'content-type': 'text/html' } });
    if (path === '/app.js' || path === '/app.css') {
      return new Response(await readFile(join(rendererDir, path.slice(1))), { headers: { ...headers, 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/css' } });
    }
    return new Response('not found', { status: 404 });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(permissionAllowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => permissionAllowed(permission));

  const host = await ConsoleHost.open({
    serverUrl: settings.serverUrl,
    auth: { ...settings.auth, ...(settings.authorityCaFile && { caPem: readFileSync(settings.authorityCaFile, 'utf8') }) },
    helpUrl: settings.helpUrl,
    dataDir: join(app.getPath('userData'), 'console'),
    box: safeStorage.isEncryptionAvailable() ? safeStorageBox : ownerOnlyFile,
    deviceName: `Roomlink console on ${hostname()}`,
    openBrowser: (url) => shell.openExternal(url),
    log,
  });
  const window = new BrowserWindow({ width: 1440, height: 900, title: 'Roomlink', show: false, webPreferences: webPreferences(join(__dirname, 'preload.cjs')) });
  window.once('ready-to-show', () => window.show());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (externalUrlAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
  });

  ipcMain.handle('roomlink:call', (event, method: unknown, args: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, event.senderFrame === window.webContents.mainFrame)) return { ok: false, error: { code: 'not_permitted', message: 'Not the console window.' } };
    return dispatch(host, method, args, (error) => log(`call ${String(method)} failed`, error));
  });
  const off = host.events.onAny((event) => window.webContents.send('roomlink:event', event));
  window.on('closed', () => {
    off();
    void host.close().then(() => app.quit());
  });
  await window.loadURL(`${APP_ORIGIN}/`);
}

main().catch((error: unknown) => {
  log('the console could not start', error);
  app.exit(1);
});
