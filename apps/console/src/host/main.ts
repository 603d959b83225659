import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuthConfig } from './auth';
import { DEFAULT_CONSOLE_PORT, startBrowserHost } from './browser-host';
import { ConsoleHost } from './console-host';
import { ownerOnlyFile } from './token-cache';

const usage = `roomlink-console [options]: the console's browser host (the console without Electron).

  --server URL        Roomlink server (default http://127.0.0.1:47800)
  --authority URL     sign-in authority (default https://127.0.0.1:47801, the local provider)
  --ca-file FILE      extra CA for the authority (default .roomlink/idp/ca.pem when the authority is local)
  --client-id ID      app registration's client id (default roomlink-console)
  --scope SCOPE       API scope (default api://roomlink/access_as_user)
  --entra             the authority is Entra ID (protocol AAD) rather than a plain OIDC provider
  --data-dir DIR      token and room cache (default .roomlink/console)
  --port PORT         where the console is served on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT}; 0 picks one)
  --help              this text
`;

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'http://127.0.0.1:47800' },
    authority: { type: 'string', default: 'https://127.0.0.1:47801' },
    'ca-file': { type: 'string' },
    'client-id': { type: 'string', default: 'roomlink-console' },
    scope: { type: 'string', default: 'api://roomlink/access_as_user' },
    entra: { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: '.roomlink/console' },
    port: { type: 'string', default: String(DEFAULT_CONSOLE_PORT) },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const log = (message: string, error?: unknown) => console.error(`[console] ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`);
const caFile = values['ca-file'] ?? (new URL(values.authority).hostname === '127.0.0.1' ? '.roomlink/idp/ca.pem' : undefined);
const auth: AuthConfig = {
  clientId: values['client-id'],
  authority: values.authority,
  scopes: [values.scope],
  protocolMode: values.entra ? 'AAD' : 'OIDC',
  ...(caFile && { caPem: readFileSync(resolve(caFile), 'utf8') }),
};
log('no Electron safeStorage here: the token cache is protected by file permissions only (0600)');
const host = await ConsoleHost.open({ serverUrl: values.server, auth, dataDir: resolve(values['data-dir']), box: ownerOnlyFile, deviceName: `browser host on ${hostname()}`, helpUrl: '/help', log });
const running = await startBrowserHost({ host, port: Number(values.port), log });
console.log(`Roomlink console: ${running.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all([running.close(), host.close()]).then(() => process.exit(0)));
}
