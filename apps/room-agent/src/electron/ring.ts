import { BrowserWindow, screen } from 'electron';
import type { Monitor, Overlay } from '../core/platform';

const RING_PX = 12;
const page = `data:text/html,${encodeURIComponent(
  `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><style>html,body{margin:0;height:100%;background:transparent}body{box-sizing:border-box;border:${RING_PX}px solid #f00}</style>`,
)}`;

/**
 * The ring on Windows: one transparent, click-through, always-on-top window
 * per display, above full-screen apps ("screen-saver" level). It needs
 * Electron, so it lives here and is handed to the Windows platform.
 */
export class ElectronRing implements Overlay {
  private windows: BrowserWindow[] = [];

  async show(_monitors: readonly Monitor[]): Promise<void> {
    if (this.windows.length > 0) return;
    this.windows = screen.getAllDisplays().map((display) => {
      const win = new BrowserWindow({
        ...display.bounds,
        frame: false,
        transparent: true,
        focusable: false,
        skipTaskbar: true,
        resizable: false,
        movable: false,
        show: false,
        webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false },
      });
      win.setIgnoreMouseEvents(true);
      win.setAlwaysOnTop(true, 'screen-saver');
      win.setContentProtection(false);
      return win;
    });
    await Promise.all(this.windows.map((win) => win.loadURL(page)));
    for (const win of this.windows) win.showInactive();
  }

  async hide(): Promise<void> {
    for (const win of this.windows) win.destroy();
    this.windows = [];
  }
}
