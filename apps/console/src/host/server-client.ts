import { ApiError, validate } from '@roomlink/shared';
import type { z } from 'zod';
import { ConsoleError } from '../api/rpc';

export interface ServerClientOptions {
  serverUrl: string;
  accessToken(): Promise<string>;
  /** This console's name in the audit (`x-roomlink-device`). */
  deviceName: string;
  timeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The server's REST API, typed by the shared schemas: every answer is
 * validated, every failure becomes a `ConsoleError` with the server's code.
 */
export class ServerClient {
  constructor(private readonly options: ServerClientOptions) {}

  json<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    return this.send(method, path, body, async (response) => {
      const parsed = validate(schema, await response.json());
      if (!parsed.ok) throw new ConsoleError('internal', 'The server sent an answer this console does not understand. Update the console.', parsed.error.details);
      return parsed.value;
    });
  }

  text(path: string): Promise<string> {
    return this.send('GET', path, undefined, (response) => response.text());
  }

  /** A download: its bytes and the file name the server suggests. */
  file(path: string): Promise<{ bytes: Buffer; filename: string | null }> {
    return this.send('GET', path, undefined, async (response) => ({
      bytes: Buffer.from(await response.arrayBuffer()),
      filename: /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? null,
    }));
  }

  private async send<T>(method: Method, path: string, body: unknown, read: (response: Response) => Promise<T>): Promise<T> {
    const token = await this.options.accessToken();
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.serverUrl), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'x-roomlink-device': this.options.deviceName,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch {
      throw new ConsoleError('server_unreachable');
    }
    if (!response.ok) throw await failure(response);
    return read(response);
  }
}

async function failure(response: Response): Promise<ConsoleError> {
  const text = await response.text();
  try {
    const parsed = ApiError.safeParse(JSON.parse(text));
    if (parsed.success) return new ConsoleError(parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
  } catch {
    // Not JSON: a proxy or a crashed server answered.
  }
  if (response.status === 401) return new ConsoleError('unauthenticated');
  return new ConsoleError(response.status >= 500 ? 'internal' : 'bad_request', `The server answered ${response.status}.`);
}
