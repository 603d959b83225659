import { roomlinkError, validate } from '@roomlink/shared';
import { z } from 'zod';
import { type ConsoleApi, consoleApiArgs, consoleEventNames, type ConsoleEventName, type ConsoleEvents, type ConsoleFailure, type ConsoleMethod, isConsoleMethod } from './console-api';

/**
 * The generic half of both transports: a call is `{id, method, args}`, a reply
 * `{id, ok, value | error}`, an event `{event, payload}`. The host side
 * validates the method and its arguments before anything runs; the client
 * side is a typed proxy, so a renamed call breaks the build, not the app.
 */

export const RpcRequest = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().max(64),
  args: z.array(z.unknown()).max(8),
});
export type RpcRequest = z.infer<typeof RpcRequest>;

export type RpcResult = { ok: true; value: unknown } | { ok: false; error: ConsoleFailure };
export type RpcReply = RpcResult & { id: number };
export interface RpcEvent<E extends ConsoleEventName = ConsoleEventName> {
  event: E;
  payload: ConsoleEvents[E];
}

/** What Electron's preload script exposes to the renderer: one call function and one event subscription. */
export interface ElectronBridge {
  call(method: ConsoleMethod, args: unknown[]): Promise<RpcResult>;
  onEvent(listener: (event: RpcEvent) => void): void;
}

/** Thrown by a host implementation to reject a call with a code the UI can show. */
export class ConsoleError extends Error implements ConsoleFailure {
  constructor(
    readonly code: ConsoleFailure['code'],
    message?: string,
    readonly details?: string[],
  ) {
    super(message ?? roomlinkError(code).message);
  }

  static from(failure: ConsoleFailure): ConsoleError {
    return new ConsoleError(failure.code, failure.message, failure.details);
  }
}

function failureOf(error: unknown): ConsoleFailure {
  if (error instanceof ConsoleError) return { code: error.code, message: error.message, ...(error.details && { details: error.details }) };
  return roomlinkError('internal');
}

/** Runs one call from an untrusted caller. Never throws. */
export async function dispatch(api: ConsoleApi, method: unknown, args: unknown, onInternalError: (error: unknown) => void): Promise<RpcResult> {
  if (!isConsoleMethod(method)) return { ok: false, error: roomlinkError('bad_request', ['method: unknown call']) };
  const parsed = validate(consoleApiArgs[method], args);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  try {
    const value = await (api[method] as (...a: unknown[]) => Promise<unknown>).apply(api, parsed.value as unknown[]);
    return { ok: true, value };
  } catch (error) {
    if (!(error instanceof ConsoleError)) onInternalError(error);
    return { ok: false, error: failureOf(error) };
  }
}

/** A `ConsoleApi` whose every call goes through `send`; failures reject with a `ConsoleError`. */
export function apiClient(send: (method: ConsoleMethod, args: unknown[]) => Promise<RpcResult>): ConsoleApi {
  return new Proxy({} as ConsoleApi, {
    get: (_target, method) =>
      isConsoleMethod(method)
        ? async (...args: unknown[]) => {
            const result = await send(method, args);
            if (!result.ok) throw ConsoleError.from(result.error);
            return result.value;
          }
        : undefined,
  });
}

type Listener<E extends ConsoleEventName> = (payload: ConsoleEvents[E]) => void;

/** Typed event fan-out, used by the host to publish and by the renderer to subscribe. */
export class ConsoleEventBus {
  private readonly listeners = new Map<ConsoleEventName, Set<Listener<never>>>();

  on<E extends ConsoleEventName>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as Listener<never>);
    this.listeners.set(event, set);
    return () => set.delete(listener as Listener<never>);
  }

  emit<E extends ConsoleEventName>(event: E, payload: ConsoleEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as Listener<E>)(payload);
  }

  /** Every event, for a transport that forwards them all. */
  onAny(listener: (event: RpcEvent) => void): () => void {
    const offs = consoleEventNames.map((name) => this.on(name, (payload) => listener({ event: name, payload } as RpcEvent)));
    return () => offs.forEach((off) => off());
  }
}
