import { type ConsoleApi, consoleEventNames } from '../../api/console-api';
import { apiClient, ConsoleEventBus, type ElectronBridge, type RpcEvent, type RpcReply, type RpcResult } from '../../api/rpc';

export interface Platform {
  kind: 'electron' | 'web';
  api: ConsoleApi;
  events: ConsoleEventBus;
  /** Settles when the host goes away (the browser host stopped); never in Electron. */
  closed: Promise<void>;
}

declare global {
  interface Window {
    roomlinkBridge?: ElectronBridge;
  }
}

const API_PROTOCOL = 'roomlink.console.v1';
const isEvent = (value: unknown): value is RpcEvent =>
  typeof value === 'object' && value !== null && 'event' in value && (consoleEventNames as readonly unknown[]).includes((value as RpcEvent).event);

/**
 * Picks the transport at start, as Element does: Electron's preload bridge
 * when present, otherwise the browser host's WebSocket. Everything above
 * this sees one `ConsoleApi`.
 */
export async function connectPlatform(): Promise<Platform> {
  const events = new ConsoleEventBus();
  const bridge = window.roomlinkBridge;
  if (bridge) {
    bridge.onEvent((event) => events.emit(event.event, event.payload as never));
    return { kind: 'electron', api: apiClient((method, args) => bridge.call(method, args)), events, closed: new Promise(() => undefined) };
  }
  return { kind: 'web', events, ...(await webSocketApi(events)) };
}

/** The browser host's key arrives in the URL fragment once; it is kept for reloads of this tab only. */
function launchKey(): string {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
  if (fromHash) {
    sessionStorage.setItem('roomlink.key', fromHash);
    history.replaceState(null, '', location.pathname);
  }
  return fromHash ?? sessionStorage.getItem('roomlink.key') ?? '';
}

async function webSocketApi(events: ConsoleEventBus): Promise<{ api: ConsoleApi; closed: Promise<void> }> {
  const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/api`, [API_PROTOCOL, `key.${launchKey()}`]);
  const pending = new Map<number, (result: RpcResult) => void>();
  let nextId = 1;
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('The console host refused this page. Open the address the console printed, including its key.'));
  });
  ws.onmessage = (message) => {
    const value: unknown = JSON.parse(String(message.data));
    if (isEvent(value)) events.emit(value.event, value.payload as never);
    else {
      const reply = value as RpcReply;
      pending.get(reply.id)?.(reply);
      pending.delete(reply.id);
    }
  };
  const closed = new Promise<void>((resolve) => {
    ws.onclose = () => {
      for (const settle of pending.values()) settle({ ok: false, error: { code: 'server_unreachable', message: 'The console host stopped. Restart it and reload this page.' } });
      pending.clear();
      resolve();
    };
  });
  const api = apiClient(
    (method, args) =>
      new Promise<RpcResult>((resolve) => {
        if (ws.readyState !== WebSocket.OPEN) return resolve({ ok: false, error: { code: 'server_unreachable', message: 'The console host is not running.' } });
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, args }));
      }),
  );
  return { api, closed };
}
