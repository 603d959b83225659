import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Flags that keep Debian's Chromium on this machine: no sync, no updates, no background requests. */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * A fresh Chromium profile. The local sign-in provider's certificate comes
 * from its own test CA, which this throwaway profile does not know.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<{ context: BrowserContext; profile: string; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'roomlink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...chromiumArgs, ...extraArgs],
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    profile,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
