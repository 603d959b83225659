import type { WebPreferences } from 'electron';

/**
 * The console window's security policy, kept free of Electron's runtime so a
 * test can read it: the renderer is a web page with no Node, in a sandbox,
 * talking to the main process only through the preload bridge.
 */

/** The renderer is served from this privileged scheme, never from file:// or the network. */
export const APP_ORIGIN = 'app://console';

export function webPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/** Calls are answered only for the console's own top-level page. */
export function isTrustedSender(frameUrl: string | undefined, isMainFrame: boolean): boolean {
  if (!frameUrl || !isMainFrame) return false;
  try {
    return new URL(frameUrl).origin === APP_ORIGIN || frameUrl.startsWith(`${APP_ORIGIN}/`);
  } catch {
    return false;
  }
}

/** The session view may go full screen; nothing else (camera, microphone, notifications, …) is ever granted. */
export function permissionAllowed(permission: string): boolean {
  return permission === 'fullscreen';
}

/** Links the console may hand to the system browser (Help, the provider's pages): https only. */
export function externalUrlAllowed(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}
