import { type AccountInfo, type AuthenticationResult, InteractionRequiredAuthError, LogLevel, PublicClientApplication } from '@azure/msal-node';
import { join } from 'node:path';
import { ConsoleError } from '../api/rpc';
import { networkClient } from './network';
import { fileCachePlugin, type SecretBox } from './token-cache';

/**
 * Sign-in settings. Production (Entra ID): `authority`
 * `https://login.microsoftonline.com/<tenant-id>`, the console's app
 * registration as `clientId`, `scopes` `["api://<api-app-id>/access_as_user"]`,
 * protocol `AAD`. Development: the local provider, protocol `OIDC`, its CA.
 */
export interface AuthConfig {
  clientId: string;
  authority: string;
  scopes: string[];
  protocolMode: 'AAD' | 'OIDC';
  /** Extra CA to trust for the authority (the local provider's). */
  caPem?: string;
}

export interface AuthOptions {
  config: AuthConfig;
  dataDir: string;
  box: SecretBox;
  /** Opens the provider's sign-in page: the system browser in Electron, the renderer's window in the browser host. */
  openBrowser(url: string): Promise<void>;
  log(message: string, error?: unknown): void;
  /** How long an interactive sign-in may wait for the person. */
  interactiveTimeoutMs?: number;
}

const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font:16px system-ui;display:grid;place-items:center;min-height:90vh"><main><h1>${title}</h1><p>${text}</p></main>`;

/** The token lives here and only here: the renderer gets the account, never a token. */
export class Auth {
  private readonly app: PublicClientApplication;
  private pending: Promise<AccountInfo> | null = null;
  /** Where the waiting sign-in's loopback listens, its state, and why it was cancelled (once it is). */
  private attempt: { redirectUri: string; state: string; cancelled: string | null } | null = null;

  constructor(private readonly options: AuthOptions) {
    const { config } = options;
    const host = new URL(config.authority).host;
    this.app = new PublicClientApplication({
      auth: { clientId: config.clientId, authority: config.authority, ...(config.protocolMode === 'OIDC' && { knownAuthorities: [host] }) },
      cache: { cachePlugin: fileCachePlugin(join(options.dataDir, 'token-cache.bin'), options.box, (error) => options.log('token cache unreadable; signing in again', error)) },
      system: {
        protocolMode: config.protocolMode === 'OIDC' ? 'OIDC' : 'AAD',
        networkClient: networkClient(config.caPem),
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: (_level, message) => options.log(message) },
      },
    } as ConstructorParameters<typeof PublicClientApplication>[0]);
  }

  async account(): Promise<AccountInfo | null> {
    const accounts = await this.app.getTokenCache().getAllAccounts();
    return accounts[0] ?? null;
  }

  /**
   * Interactive sign-in through the system's browser and a loopback redirect
   * (PKCE). One at a time: a new one first cancels one still waiting, whose
   * window was closed or lost with a reload, so Sign in always opens a page.
   */
  signIn(): Promise<AccountInfo> {
    const previous = this.pending;
    const attempt: Promise<AccountInfo> = (previous ? this.cancelSignIn('Another sign-in was started.').then(() => previous.catch(() => undefined)) : Promise.resolve())
      .then(() => this.interactive())
      .finally(() => {
        if (this.pending === attempt) this.pending = null;
      });
    this.pending = attempt;
    return attempt;
  }

  /**
   * Ends a sign-in that waits for a page nobody will finish (its window was
   * closed): the loopback listener is answered the way a provider answers a
   * refusal, so MSAL closes it and the waiting sign-in fails at once.
   */
  async cancelSignIn(reason: string): Promise<void> {
    const attempt = this.attempt;
    if (!attempt || attempt.cancelled) return;
    attempt.cancelled = reason;
    await fetch(attempt.redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ error: 'access_denied', error_description: reason, state: attempt.state }).toString(),
    }).catch((error: unknown) => this.options.log('cancelling the sign-in listener failed', error));
  }

  private async interactive(): Promise<AccountInfo> {
    const timeoutMs = this.options.interactiveTimeoutMs ?? 5 * 60_000;
    const timer = setTimeout(() => void this.cancelSignIn('The sign-in page was not completed in time.'), timeoutMs);
    try {
      const result = await this.app.acquireTokenInteractive({
        scopes: this.options.config.scopes,
        openBrowser: async (url) => {
          const query = new URL(url).searchParams;
          this.attempt = { redirectUri: query.get('redirect_uri') ?? '', state: query.get('state') ?? '', cancelled: null };
          await this.options.openBrowser(url);
        },
        successTemplate: page('Signed in to Roomlink', 'You can close this tab and return to the console.'),
        errorTemplate: page('Sign-in failed', 'Return to the console and try again.'),
      });
      if (!result.account) throw new ConsoleError('sign_in_failed');
      return result.account;
    } catch (error) {
      if (error instanceof ConsoleError) throw error;
      const cancelled = this.attempt?.cancelled;
      if (cancelled) throw new ConsoleError('sign_in_failed', `Sign-in was cancelled. ${cancelled}`);
      this.options.log('interactive sign-in failed', error);
      throw new ConsoleError('sign_in_failed', `Sign-in did not complete: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(timer);
      this.attempt = null;
    }
  }

  /** A valid access token from the cache, refreshed when needed; `sign_in_required` when that is impossible. */
  async accessToken(): Promise<string> {
    const account = await this.account();
    if (!account) throw new ConsoleError('sign_in_required');
    let result: AuthenticationResult | null;
    try {
      result = await this.app.acquireTokenSilent({ account, scopes: this.options.config.scopes });
    } catch (error) {
      if (error instanceof InteractionRequiredAuthError) throw new ConsoleError('sign_in_required', 'Your sign-in has expired. Sign in again.');
      this.options.log('silent token failed', error);
      throw new ConsoleError('server_unreachable', 'The sign-in service cannot be reached.');
    }
    if (!result?.accessToken) throw new ConsoleError('sign_in_required');
    return result.accessToken;
  }

  async signOut(): Promise<void> {
    const cache = this.app.getTokenCache();
    for (const account of await cache.getAllAccounts()) await cache.removeAccount(account);
  }
}
