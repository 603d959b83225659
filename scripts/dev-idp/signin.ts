import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { API_SCOPE, DEV_CLIENT_ID } from './idp';

export interface DevTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresIn: number;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: URL, ca: string, options: { method?: string; cookies?: Map<string, string>; form?: Record<string, string> } = {}): Promise<Reply> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const cookie = options.cookies ? [...options.cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca,
        headers: { ...(cookie && { cookie }), ...(body && { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';');
            const at = pair!.indexOf('=');
            options.cookies?.set(pair!.slice(0, at), pair!.slice(at + 1));
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A real authorization-code sign-in with PKCE against the dev provider, with
 * the login form answered over HTTP: tests and benchmarks get the same tokens
 * the console gets through msal-node and a browser.
 */
export async function devSignIn(issuer: string, caPem: string, username: string): Promise<DevTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = 'http://localhost/';
  const cookies = new Map<string, string>();
  let url = new URL(`${issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: DEV_CLIENT_ID,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: `openid profile email offline_access ${API_SCOPE}`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  }).toString();
  for (let hop = 0; hop < 10; hop += 1) {
    const reply = await send(url, caPem, { cookies });
    const location = reply.headers.location;
    if (typeof location !== 'string') {
      const uid = /\/interaction\/([\w-]+)/.exec(url.pathname)?.[1];
      if (reply.status !== 200 || !uid) throw new Error(`sign-in stopped at ${url.pathname} with ${reply.status}: ${reply.body.slice(0, 200)}`);
      const posted = await send(new URL(`${issuer}/interaction/${uid}/login`), caPem, { method: 'POST', cookies, form: { login: username } });
      if (typeof posted.headers.location !== 'string') throw new Error(`login refused for ${username}: ${posted.status}`);
      url = new URL(posted.headers.location, issuer);
      continue;
    }
    const next = new URL(location, issuer);
    if (next.href.startsWith(redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code) throw new Error(`sign-in failed: ${next.searchParams.get('error')} ${next.searchParams.get('error_description')}`);
      const token = await send(new URL(`${issuer}/token`), caPem, {
        method: 'POST',
        form: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: DEV_CLIENT_ID },
      });
      if (token.status !== 200) throw new Error(`token exchange failed: ${token.status} ${token.body}`);
      const json = JSON.parse(token.body) as { access_token: string; refresh_token?: string; id_token?: string; expires_in: number };
      return { accessToken: json.access_token, refreshToken: json.refresh_token, idToken: json.id_token, expiresIn: json.expires_in };
    }
    url = next;
  }
  throw new Error('sign-in did not finish within 10 redirects');
}
