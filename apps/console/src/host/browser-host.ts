import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_MESSAGE_BYTES } from '@roomlink/shared';
import { WebSocketServer, type WebSocket } from 'ws';
import { RpcRequest, dispatch, type RpcReply } from '../api/rpc';
import type { ConsoleHost } from './console-host';
import { buildRenderer, type RendererBundle } from './renderer-build';
import { contentSecurityPolicy, rendererHtml } from './renderer-page';

/** The WebSocket subprotocol of the browser host's API; the secret travels as a second one, never in a URL. */
export const API_PROTOCOL = 'roomlink.console.v1';
export const KEY_PROTOCOL_PREFIX = 'key.';
export const DEFAULT_CONSOLE_PORT = 47_802;

export interface BrowserHostOptions {
  host: ConsoleHost;
  port?: number;
  /** A prebuilt renderer; built on start when absent. */
  bundle?: RendererBundle;
  log(message: string, error?: unknown): void;
}

export interface RunningBrowserHost {
  /** Origin of the console, e.g. http://127.0.0.1:47802 */
  origin: string;
  /** What a person opens: the origin with this launch's secret in the fragment (never sent to the server). */
  url: string;
  close(): Promise<void>;
}

/** The technician's help page (how to start, type, switch displays and end), not the developers' README. */
const help = fileURLToPath(new URL('../help/help.html', import.meta.url));

/**
 * The console without Electron: serves the renderer and the `ConsoleApi`
 * over a WebSocket on 127.0.0.1 only. A per-launch secret and Origin and
 * Host checks keep other local users and other web pages out.
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<RunningBrowserHost> {
  const secret = randomBytes(24).toString('base64url');
  const bundle = options.bundle ?? (await buildRenderer({ minify: true }));
  let origin = '';
  let html = '';
  let csp = '';

  const send = (res: ServerResponse, status: number, type: string, body: string) =>
    res
      .writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'content-security-policy': `${csp}; frame-ancestors 'none'`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      })
      .end(body);
  // DNS rebinding: a page of another site whose name now points at 127.0.0.1 still sends its own name as Host.
  const ownHost = (req: IncomingMessage) => req.headers.host === new URL(origin).host;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!ownHost(req)) return send(res, 421, 'text/plain', 'misdirected request');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', html);
    if (path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', bundle.js);
    if (path === '/app.css') return send(res, 200, 'text/css; charset=utf-8', bundle.css);
    if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (path === '/help') return send(res, 200, 'text/html; charset=utf-8', readFileSync(help, 'utf8'));
    return send(res, 404, 'text/plain', 'not found');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: (protocols) => (protocols.has(API_PROTOCOL) ? API_PROTOCOL : false) });
  const expected = Buffer.from(secret);
  const authorized = (req: IncomingMessage): boolean => {
    if (req.headers.origin !== origin || !ownHost(req)) return false;
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const key = offered.find((p) => p.startsWith(KEY_PROTOCOL_PREFIX))?.slice(KEY_PROTOCOL_PREFIX.length);
    const given = Buffer.from(key ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', origin).pathname !== '/api' || !authorized(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveApi(ws, options));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CONSOLE_PORT, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  csp = contentSecurityPolicy(origin.replace('http:', 'ws:'));
  html = rendererHtml(csp);
  return {
    origin,
    url: `${origin}/#key=${secret}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One renderer connection: calls in, replies and every host event out. */
function serveApi(ws: WebSocket, options: BrowserHostOptions): void {
  const off = options.host.events.onAny((event) => ws.send(JSON.stringify(event)));
  ws.on('close', off);
  ws.on('message', (data, isBinary) => {
    let request: RpcRequest;
    try {
      const parsed = RpcRequest.safeParse(isBinary ? null : JSON.parse(data.toString()));
      if (!parsed.success) throw new Error('not a call');
      request = parsed.data;
    } catch {
      ws.send(JSON.stringify({ id: -1, ok: false, error: { code: 'bad_request', message: 'Not a console API call.' } } satisfies RpcReply));
      return;
    }
    void dispatch(options.host, request.method, request.args, (error) => options.log(`call ${request.method} failed`, error)).then((result) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: request.id, ...result } satisfies RpcReply));
    });
  });
}

/**
 * A page in `dir`, readable by this account only, that forwards the browser
 * to `url` (which carries the launch key). Hand its path to a browser
 * instead of the URL: a command line is readable by every local user, the
 * file is not.
 */
export function writeLaunchPage(dir: string, url: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'open-console.html');
  rmSync(file, { force: true });
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Roomlink</title><script>location.replace(${JSON.stringify(url)})</script>`, { mode: 0o600, flag: 'wx' });
  return file;
}
