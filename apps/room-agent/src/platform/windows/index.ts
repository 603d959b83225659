import libnut from '@nut-tree-fork/libnut-win32';
import { Monitor as ScreenMonitor } from 'node-screenshots';
import { windowManager } from 'node-window-manager';
import { libnutKey } from '../../core/key-names';
import { writeLogBundle } from '../../core/log-bundle';
import type { Capture, Device, Displays, Keyboard, Overlay, Platform, Pointer, RoomState } from '../../core/platform';

/**
 * The product target. It cannot run here, so it stays thin enough to review
 * by reading: monitors from node-window-manager, capture with
 * node-screenshots (no change hints: the pump polls and compares), keys with
 * SendInput through libnut, restart with `shutdown /r`. The ring needs
 * windows of its own, so it comes from the Electron host (`src/electron`).
 */
export interface WindowsOptions {
  overlay: Overlay;
  roomState: RoomState;
  logDir: string;
}

const displays: Displays = {
  list: async () =>
    windowManager.getMonitors().map((m, i) => {
      const b = m.getBounds();
      return { id: String(m.id), name: `\\\\.\\DISPLAY${i + 1}`, primary: m.isPrimary(), x: b.x ?? 0, y: b.y ?? 0, width: b.width ?? 0, height: b.height ?? 0 };
    }),
};

const capture: Capture = {
  grab: async (monitor) => {
    const screen = ScreenMonitor.fromPoint(monitor.x + 1, monitor.y + 1);
    if (!screen) throw new Error(`Monitor ${monitor.name} is gone.`);
    const image = await screen.captureImage();
    return { width: image.width, height: image.height, area: { x: 0, y: 0, w: image.width, h: image.height }, data: bgrx(await image.toRaw()) };
  },
  watch: () => null,
};

/** node-screenshots' RGBA as the core's B, G, R, X (see `Frame`), in a buffer of its own (aligned for 32-bit views). */
function bgrx(rgba: Uint8Array): Uint8Array {
  const words = new Uint32Array(rgba.byteLength / 4);
  new Uint8Array(words.buffer).set(rgba);
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!;
    words[i] = (v & 0xff00ff00) | ((v & 0xff) << 16) | ((v >>> 16) & 0xff);
  }
  return new Uint8Array(words.buffer);
}

const keyboard: Keyboard = {
  supports: (code) => libnutKey(code) !== null,
  toggle: (code, down) => {
    const key = libnutKey(code);
    if (key !== null) libnut.keyToggle(key, down ? 'down' : 'up');
  },
};

const pointer: Pointer = {
  move: (x, y) => libnut.moveMouse(x, y),
  button: (button, down) => libnut.mouseToggle(down ? 'down' : 'up', button),
  wheel: (notches) => libnut.scrollMouse(0, -notches),
};

export function windowsPlatform(options: WindowsOptions): Platform {
  const device: Device = {
    restart: async () => {
      const { spawn } = await import('node:child_process');
      spawn('shutdown', ['/r', '/t', '0', '/c', 'Roomlink: restart after remote session'], { detached: true, stdio: 'ignore' }).unref();
    },
    collectLogs: async () => writeLogBundle(options.logDir, 'windows'),
  };
  return {
    name: 'windows',
    displays,
    capture,
    keyboard,
    pointer,
    overlay: options.overlay,
    device,
    roomState: options.roomState,
    close: async () => options.roomState.close(),
  };
}
