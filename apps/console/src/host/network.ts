import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { request } from 'node:https';

/**
 * msal-node's HTTP client, able to trust one extra CA: the local sign-in
 * provider's self-signed one. msal refuses `http://` authorities, so the dev
 * provider speaks HTTPS with a CA made at its first start.
 */
export function networkClient(caPem: string | undefined): INetworkModule {
  const send = <T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeoutMs = 30_000): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method, headers: options?.headers, timeout: timeoutMs, ...(caPem && { ca: caPem }) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // msal reads error responses as text too.
          }
          resolve({ headers, body: body as T, status: res.statusCode ?? 0 });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`request to ${new URL(url).host} timed out`)));
      req.on('error', reject);
      req.end(options?.body);
    });
  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
