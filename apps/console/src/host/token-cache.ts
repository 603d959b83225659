import type { ICachePlugin } from '@azure/msal-node';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * How the token cache is sealed at rest. Electron passes `safeStorage`
 * (DPAPI on Windows, Keychain on macOS, libsecret on Linux). Without it
 * (the browser host) the cache is kept in a file only its owner may read —
 * `protected: false` says so, and the host logs it once.
 */
export interface SecretBox {
  readonly protected: boolean;
  seal(text: string): Buffer;
  open(sealed: Buffer): string;
}

export const ownerOnlyFile: SecretBox = {
  protected: false,
  seal: (text) => Buffer.from(text, 'utf8'),
  open: (sealed) => sealed.toString('utf8'),
};

/** msal's cache plugin over one file, written with temp-then-rename so a crash never leaves half a cache. */
export function fileCachePlugin(path: string, box: SecretBox, onUnreadable: (error: unknown) => void): ICachePlugin {
  return {
    beforeCacheAccess: async (context) => {
      if (!existsSync(path)) return;
      try {
        context.tokenCache.deserialize(box.open(readFileSync(path)));
      } catch (error) {
        // A cache sealed by another user or machine cannot be opened: start signed out.
        onUnreadable(error);
        rmSync(path, { force: true });
      }
    },
    afterCacheAccess: async (context) => {
      if (!context.cacheHasChanged) return;
      const temp = `${path}.tmp`;
      writeFileSync(temp, box.seal(context.tokenCache.serialize()), { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, path);
    },
  };
}
