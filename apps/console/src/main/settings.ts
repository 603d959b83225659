import type { AuthConfig } from '../host/auth';

export interface ConsoleSettings {
  serverUrl: string;
  auth: Omit<AuthConfig, 'caPem'>;
  /** A PEM file with an extra CA for the authority (the local provider's). */
  authorityCaFile: string | undefined;
  helpUrl: string;
}

/**
 * Where the packaged console connects and signs in. Production builds set
 * these for Entra ID (see README, "Sign-in"); without them the console talks
 * to `npm start`'s local server and provider.
 */
export function consoleSettings(env: NodeJS.ProcessEnv): ConsoleSettings {
  const authority = env.ROOMLINK_AUTHORITY ?? 'https://127.0.0.1:47801';
  return {
    serverUrl: env.ROOMLINK_SERVER ?? 'http://127.0.0.1:47800',
    auth: {
      clientId: env.ROOMLINK_CLIENT_ID ?? 'roomlink-console',
      authority,
      scopes: [env.ROOMLINK_SCOPE ?? 'api://roomlink/access_as_user'],
      protocolMode: authority.startsWith('https://login.microsoftonline.com/') ? 'AAD' : 'OIDC',
    },
    authorityCaFile: env.ROOMLINK_AUTHORITY_CA_FILE,
    helpUrl: env.ROOMLINK_HELP_URL ?? 'https://github.com/roomlink/roomlink#readme',
  };
}
