import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { interactionPolicy, type Configuration } from 'oidc-provider';
import { devAccounts, type DevAccount } from './accounts';
import { ensureDevTls } from './tls';

export const DEV_CLIENT_ID = 'roomlink-console';
export const API_AUDIENCE = 'api://roomlink';
export const API_SCOPE = `${API_AUDIENCE}/access_as_user`;
export const DEFAULT_IDP_PORT = 47_801;

export interface IdpOptions {
  dataDir: string;
  /** Fixed by default: msal-node keys its cached accounts by host and port. */
  port?: number;
  accessTokenTtlSeconds?: number;
  accounts?: DevAccount[];
}

export interface RunningIdp {
  issuer: string;
  caPem: string;
  caFile: string;
  accounts: DevAccount[];
  close(): Promise<void>;
}

async function signingKeys(dataDir: string): Promise<object[]> {
  const file = join(dataDir, 'jwks.json');
  if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { keys: object[] }).keys;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const keys = [{ ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' }];
  writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
  return keys;
}

function cookieKeys(dataDir: string): string[] {
  const file = join(dataDir, 'cookie-keys.json');
  if (!existsSync(file)) writeFileSync(file, JSON.stringify([randomBytes(32).toString('base64url')]), { mode: 0o600 });
  return JSON.parse(readFileSync(file, 'utf8')) as string[];
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, accounts: DevAccount[], hint: string | undefined, error?: string): string {
  const buttons = accounts
    .map((a) => `<button type="submit" name="login" value="${escapeHtml(a.username)}"${a.username === hint ? ' autofocus' : ''}><b>${escapeHtml(a.name)}</b><span>${escapeHtml(a.username)}</span></button>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in — Roomlink dev</title>
<style>body{font:15px system-ui,sans-serif;background:#f3f4f6;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 12px #0002;width:22rem}h1{font-size:1.25rem;margin:0 0 .25rem}
p{color:#555;margin:0 0 1rem}button{display:flex;flex-direction:column;align-items:flex-start;width:100%;margin:.4rem 0;padding:.6rem .8rem;border:1px solid #ccd;border-radius:6px;background:#fff;cursor:pointer;text-align:left}
button:hover,button:focus{border-color:#2563eb;outline:none}span{color:#666;font-size:13px}.error{color:#b91c1c}</style></head>
<body><main><h1>Sign in</h1><p>Roomlink development sign-in. Pick an account.</p>${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">${buttons}</form></main></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

/**
 * The local OpenID Connect provider for development and tests: a public
 * native client with PKCE, static accounts carrying Entra-shaped claims (tid,
 * oid, groups, wids), JWT access tokens for `api://roomlink`.
 */
export async function startIdp(options: IdpOptions): Promise<RunningIdp> {
  const tls = ensureDevTls(options.dataDir);
  const accounts = options.accounts ?? devAccounts;
  const byOid = new Map(accounts.map((a) => [a.oid, a]));
  const port = options.port ?? DEFAULT_IDP_PORT;

  const policy = interactionPolicy.base();
  // msal-node always sends prompt=select_account.
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

  const configuration: Configuration = {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://localhost', 'http://localhost/', 'http://127.0.0.1/'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: (await signingKeys(options.dataDir)) as never },
    cookies: { keys: cookieKeys(options.dataDir) },
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'oid', 'tid', 'groups'], email: ['email'] },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== API_AUDIENCE) throw new Error(`unknown resource ${resource}`);
          return { scope: API_SCOPE, audience: API_AUDIENCE, accessTokenTTL: options.accessTokenTtlSeconds ?? 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    findAccount: (_ctx, sub) => {
      const account = byOid.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, oid: account.oid, tid: account.tid, name: account.name, preferred_username: account.username, email: account.email, groups: account.groups }),
      };
    },
    extraTokenClaims: (_ctx, token) => {
      const account = 'accountId' in token && typeof token.accountId === 'string' ? byOid.get(token.accountId) : undefined;
      return account ? { tid: account.tid, oid: account.oid, name: account.name, preferred_username: account.username, groups: account.groups, wids: account.wids } : {};
    },
    // A first-party client: every sign-in gets the full grant, no consent screen.
    loadExistingGrant: async (ctx) => {
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (existing) {
        const grant = await ctx.oidc.provider.Grant.find(existing);
        if (grant) return grant;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid profile email offline_access');
      grant.addResourceScope(API_AUDIENCE, API_SCOPE);
      await grant.save();
      return grant;
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600, IdToken: 3600, Interaction: 3600, Grant: 14 * 24 * 3600, RefreshToken: 14 * 24 * 3600, Session: 14 * 24 * 3600 },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Sign-in error</title><h1>Sign-in error</h1><p>${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p>`;
    },
  };

  // Listen first: with port 0 (tests) the issuer URL is only known once bound.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (action === 'login' && req.method === 'POST') {
      const login = (await readForm(req)).get('login') ?? '';
      const account = accounts.find((a) => a.username === login.trim().toLowerCase());
      if (!account) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(uid, accounts, undefined, `No account ${login}.`));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: account.oid }, select_account: {}, consent: {} }, { mergeWithLastSubmission: false });
      return;
    }
    const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(loginPage(uid, accounts, hint));
  }

  handle = (req, res) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(req.url ?? '');
    if (!match) {
      void callback(req, res);
      return;
    }
    interaction(req, res, match[1]!, match[2]).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`Sign-in interaction failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  return {
    issuer,
    caPem: tls.caPem,
    caFile: tls.caFile,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
