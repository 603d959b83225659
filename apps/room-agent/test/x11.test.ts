import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Monitor } from 'node-screenshots';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../src/core/identity';
import { X11Capture, x11Displays } from '../src/platform/x11/capture';
import { openDisplay, type XConnection } from '../src/platform/x11/xconnection';
import { RING_PX } from '../src/platform/x11/overlay';
import { enrolledAgent, type TestAgent } from './support/agent';
import { ControlPlane } from './support/control-plane';
import { startXorg, type XServer } from './support/xorg';
import { eventually, Viewer } from './support/viewer';

/**
 * The x11 adapter on a real X server with three monitors: the ring in the
 * captured pixels, keys typed through XTEST into a real Chromium window, and
 * real video of the selected display received by a WebRTC peer.
 */

let xserver: XServer;
let plane: ControlPlane;
let room: TestAgent;
let viewer: Viewer | null = null;
let x: XConnection;

beforeAll(async () => {
  xserver = await startXorg();
  x = await openDisplay(xserver.display, () => undefined);
  plane = new ControlPlane();
  await plane.listen();
  room = await enrolledAgent(plane, { platform: 'x11', display: xserver.display, graceMs: 1000 });
});

afterEach(async () => {
  viewer?.close();
  viewer = null;
  const session = room.agent.currentSession;
  if (session) await session.end('user_ended');
});

afterAll(async () => {
  await room?.stop();
  await plane?.kill();
  await x?.close();
  await xserver?.close();
});

type Rgb = [number, number, number];
const isRed = ([r, g, b]: Rgb) => r > 200 && g < 50 && b < 50;

/** Edge and centre pixels of every monitor, captured from the X server as anyone would see them. */
async function screenPixels(): Promise<{ edges: Rgb[]; centres: Rgb[] }> {
  const edges: Rgb[] = [];
  const centres: Rgb[] = [];
  for (const monitor of Monitor.all()) {
    const image = await monitor.captureImage();
    const raw = await image.toRaw();
    const at = (px: number, py: number): Rgb => {
      const i = (py * image.width + px) * 4;
      return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
    };
    const w = image.width;
    const h = image.height;
    const inset = Math.floor(RING_PX / 2);
    edges.push(at(w / 2, inset), at(w / 2, h - 1 - inset), at(inset, h / 2), at(w - 1 - inset, h / 2), at(inset, inset));
    centres.push(at(w / 2, h / 2), at(RING_PX + 2, h / 2));
  }
  return { edges, centres };
}

async function openSession(level: 'view' | 'modify') {
  const { sessionId } = await plane.offer(level);
  viewer = new Viewer(plane, sessionId);
  await plane.waitFor('session.active', (m) => m.sessionId === sessionId);
  await viewer.waitForMessage('session.info');
  return { sessionId, viewer };
}

async function ended(): Promise<string> {
  return new Promise((resolve) => {
    const off = room.agent.onSessionEnded((s) => {
      off();
      resolve(s.summary!.reason);
    });
  });
}

describe.each([
  { reading: 'shared memory', sharedMemory: true },
  { reading: 'socket', sharedMemory: false },
] as const)('capture woken by DAMAGE, reading through $reading', ({ reading, sharedMemory }) => {
  it('reads back only what was drawn, as the server holds it (B, G, R, X), and a whole grab matches the screen', async () => {
    const connection = await openDisplay(xserver.display, () => undefined, { sharedMemory });
    const capture = new X11Capture(connection);
    await capture.init();
    expect(capture.reading).toBe(reading);
    const [monitor] = await x11Displays.list();
    const wakes: number[] = [];
    const unwatch = capture.watch(monitor!, () => wakes.push(Date.now()));
    const whole = { x: 0, y: 0, w: monitor!.width, h: monitor!.height };
    // Never grabbed: everything may have changed. Then nothing has.
    expect((await capture.grab(monitor!, false)).area).toEqual(whole);
    expect((await capture.grab(monitor!, false)).area).toBeNull();

    const X = x.display.client;
    const window = X.AllocID();
    X.CreateWindow(window, x.root, 300, 200, 160, 90, 0, 0, 0, 0, { backgroundPixel: 0x3366cc, overrideRedirect: 1 });
    X.MapWindow(window);
    await eventually(() => wakes.length > 0, 'a DAMAGE wake for the new window');
    const frame = await capture.grab(monitor!, false);
    const area = frame.area!;
    expect(area.x <= 300 && area.y <= 200 && area.x + area.w >= 460 && area.y + area.h >= 290).toBe(true);
    expect(area.w * area.h).toBeLessThan(monitor!.width * monitor!.height);
    const at = (px: number, py: number) => [...frame.data.subarray(((py - area.y) * area.w + px - area.x) * 4, ((py - area.y) * area.w + px - area.x) * 4 + 3)];
    expect(at(380, 245)).toEqual([0xcc, 0x66, 0x33]);

    const all = await capture.grab(monitor!, true);
    expect(all.area).toEqual(whole);
    const screen = await (await Monitor.all().find((m) => String(m.id()) === monitor!.id)!.captureImage()).toRaw();
    let differing = 0;
    for (let i = 0; i < screen.length; i += 4) if (screen[i] !== all.data[i + 2] || screen[i + 1] !== all.data[i + 1] || screen[i + 2] !== all.data[i]) differing += 1;
    expect(differing).toBe(0);

    X.DestroyWindow(window);
    unwatch();
    await capture.close();
    await connection.close();
  });

  it('gives grabs of two monitors at once each their own pixels', async () => {
    const connection = await openDisplay(xserver.display, () => undefined, { sharedMemory });
    const capture = new X11Capture(connection);
    await capture.init();
    const monitors = await x11Displays.list();
    const [first, last] = [monitors[0]!, monitors.at(-1)!];
    // Known images first, so the grabs below read just the windows, through a reader already set up.
    await capture.grab(first, true);
    await capture.grab(last, true);
    const X = x.display.client;
    const windows = [
      { monitor: first, colour: 0x11aa33 },
      { monitor: last, colour: 0xaa2299 },
    ].map(({ monitor, colour }) => {
      const window = X.AllocID();
      X.CreateWindow(window, x.root, monitor.x + 200, monitor.y + 200, 300, 300, 0, 0, 0, 0, { backgroundPixel: colour, overrideRedirect: 1 });
      X.MapWindow(window);
      return window;
    });
    await x.sync();

    const frames = await Promise.all([capture.grab(first, true), capture.grab(last, true)]);
    // B, G, R of each window's centre.
    const centre = (frame: (typeof frames)[number]) => [...frame.data.subarray((350 * frame.width + 350) * 4, (350 * frame.width + 350) * 4 + 3)];
    expect(centre(frames[0])).toEqual([0x33, 0xaa, 0x11]);
    expect(centre(frames[1])).toEqual([0x99, 0x22, 0xaa]);

    for (const window of windows) X.DestroyWindow(window);
    await x.sync();
    await capture.close();
    await connection.close();
  });
});

describe('the ring (rule 8)', () => {
  it('is red around every monitor during a session and gone after the technician ends it', async () => {
    expect((await screenPixels()).edges.some(isRed)).toBe(false);
    const { viewer } = await openSession('view');
    const during = await screenPixels();
    expect(during.edges).toHaveLength(15);
    expect(during.edges.every(isRed)).toBe(true);
    expect(during.centres.some(isRed)).toBe(false);
    const done = ended();
    viewer.send({ type: 'control.end' });
    await done;
    expect((await screenPixels()).edges.some(isRed)).toBe(false);
  });

  it('is gone after a session ends in an error', async () => {
    const { sessionId } = await plane.offer('modify');
    viewer = new Viewer(plane, sessionId);
    const done = ended();
    viewer.askForAudio = true;
    expect(await done).toBe('error');
    expect((await screenPixels()).edges.some(isRed)).toBe(false);
  });

  it('is gone after the server is killed and the grace period passes', async () => {
    await openSession('modify');
    expect((await screenPixels()).edges.every(isRed)).toBe(true);
    const done = ended();
    const port = plane.port;
    await plane.kill();
    expect(await done).toBe('control_plane_lost');
    expect((await screenPixels()).edges.some(isRed)).toBe(false);
    await plane.listen(port);
    await plane.waitForAgent();
  });

  it('is never raised for a refused grant', async () => {
    const { sessionId } = await plane.offer('modify', { fields: { rid: 'room-elsewhere' } });
    await plane.waitFor('session.reject', (m) => m.sessionId === sessionId);
    expect((await screenPixels()).edges.some(isRed)).toBe(false);
  });
});

describe('video of the selected display', () => {
  it('shows a coloured window on Front of Room 2 only once that display is selected', async () => {
    const X = x.display.client;
    const window = X.AllocID();
    // Green, 800x400, 400 px into the third monitor.
    X.CreateWindow(window, x.root, 3840 + 400, 300, 800, 400, 0, 0, 0, 0, { backgroundPixel: 0x00c000, overrideRedirect: 1 });
    X.MapWindow(window);
    await x.sync();
    try {
      const { viewer } = await openSession('view');
      const green = ([r, g, b]: Rgb) => g > 150 && r < 60 && b < 60;
      await eventually(() => viewer.frame, 'a frame of the console');
      expect(green(viewer.pixel(800, 500))).toBe(false);
      viewer.send({ type: 'control.selectDisplay', displayId: 'frontOfRoom2' as never });
      await viewer.waitForMessage('session.info', (m) => m.selectedDisplay === 'frontOfRoom2');
      await eventually(() => viewer.frame && green(viewer.pixel(800, 500)), 'the green window in the video', 15_000);
      expect(viewer.frame!.width).toBe(1920);
      expect(isRed(viewer.pixel(960, 3))).toBe(true);
    } finally {
      X.DestroyWindow(window);
      await x.sync();
    }
  });

  it('sends nothing while the screen stays still, the picture again when asked, and the change as soon as it comes', async () => {
    const { viewer } = await openSession('view');
    await eventually(() => viewer.frame, 'a frame of the console');
    // Longer than any refresh interval worth having: a still screen must not be re-encoded at all.
    await new Promise((r) => setTimeout(r, 500));
    const still = viewer.framesReceived;
    await new Promise((r) => setTimeout(r, 3500));
    expect(viewer.framesReceived).toBe(still);
    // A viewer that lost its picture asks, and gets the still screen again at once.
    viewer.send({ type: 'control.requestKeyframe' });
    await eventually(() => viewer.framesReceived > still, 'the picture sent again on request');

    const X = x.display.client;
    const window = X.AllocID();
    X.CreateWindow(window, x.root, 500, 300, 400, 300, 0, 0, 0, 0, { backgroundPixel: 0xc000c0, overrideRedirect: 1 });
    X.MapWindow(window);
    try {
      await eventually(() => viewer.frame && viewer.pixel(700, 450)[1] < 60 && viewer.pixel(700, 450)[0] > 150, 'the magenta window in the video');
    } finally {
      X.DestroyWindow(window);
      await x.sync();
    }
  });
});

describe('keyboard (rule 7) into a real X window', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: false,
      env: { ...process.env, DISPLAY: xserver.display },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-position=0,0', '--window-size=1200,800'],
    });
    page = await browser.newPage();
    await page.setContent('<title>roomlink-keys</title><textarea id="t" autofocus style="width:100%;height:300px"></textarea>');
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** With no window manager, X focus has to be given explicitly. */
  async function focusTextarea(): Promise<void> {
    await page.fill('#t', '');
    await page.focus('#t');
    const ids = execFileSync('xdotool', ['search', '--sync', '--onlyvisible', '--name', 'roomlink-keys'], { env: { ...process.env, DISPLAY: xserver.display } }).toString().trim().split('\n');
    execFileSync('xdotool', ['windowfocus', '--sync', ids[0]!], { env: { ...process.env, DISPLAY: xserver.display } });
  }

  const shifted: Record<string, string> = { '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', $: 'Digit4', '%': 'Digit5', '^': 'Digit6', '&': 'Digit7', '*': 'Digit8', '(': 'Digit9', ')': 'Digit0' };
  function keysFor(text: string) {
    return [...text].map((char) => {
      if (char === ' ') return { code: 'Space', shift: false };
      if (shifted[char]) return { code: shifted[char], shift: true };
      return { code: `Key${char.toUpperCase()}`, shift: char !== char.toLowerCase() };
    });
  }
  const mods = (shift: boolean) => ({ shift, ctrl: false, alt: false, meta: false });

  function type(viewer: Viewer, text: string): void {
    for (const { code, shift } of keysFor(text)) {
      viewer.send({ type: 'input.key', code, down: true, modifiers: mods(shift) });
      viewer.send({ type: 'input.key', code, down: false, modifiers: mods(shift) });
    }
  }

  it('a modify session types punctuation exactly', async () => {
    await focusTextarea();
    const { viewer } = await openSession('modify');
    const text = 'Hello World! @#$%^&*()';
    type(viewer, text);
    await eventually(async () => (await page.inputValue('#t')) === text || undefined, `"${text}" in the window`).catch(async () => {
      throw new Error(`the window holds "${await page.inputValue('#t')}"`);
    });
  });

  it('the Enter key and the Enter shortcut arrive as the main Enter, the keypad Enter as another key', async () => {
    await focusTextarea();
    await page.evaluate(() => {
      const codes: string[] = [];
      (window as unknown as { codes: string[] }).codes = codes;
      document.querySelector('#t')!.addEventListener('keydown', (event) => codes.push((event as KeyboardEvent).code));
    });
    const { viewer } = await openSession('modify');
    for (const code of ['Enter', 'NumpadEnter']) {
      viewer.send({ type: 'input.key', code, down: true, modifiers: mods(false) });
      viewer.send({ type: 'input.key', code, down: false, modifiers: mods(false) });
    }
    viewer.send({ type: 'control.shortcut', command: 'enter' });
    const codes = () => page.evaluate(() => (window as unknown as { codes: string[] }).codes);
    await eventually(async () => (await codes()).length === 3 || undefined, 'three Enters');
    const [main, keypad, shortcut] = await codes();
    expect([main, shortcut]).toEqual(['Enter', 'Enter']);
    // The dummy X server numbers keys the xfree86 way and Chromium reads them the evdev way, so the keypad key gets another
    // name here; what matters is that it is not the main Enter.
    expect(keypad).not.toBe('Enter');
  });

  it("a view session's keys never arrive", async () => {
    await focusTextarea();
    const { sessionId, viewer } = await openSession('view');
    type(viewer, 'should not appear');
    viewer.send({ type: 'ping', t: 3 });
    await viewer.waitForMessage('pong');
    const done = plane.waitFor('session.end', (m) => m.sessionId === sessionId);
    viewer.send({ type: 'control.end' });
    expect((await done).input).toEqual({ accepted: 0, dropped: 34, pointer: { accepted: 0, dropped: 0 } });
    expect(await page.inputValue('#t')).toBe('');
  });
});

describe('an X server that goes away', () => {
  /** Opens a modify session, then stops the X server under it: the session ends in an error. */
  async function sessionWhileXGoes(ownPlane: ControlPlane, own: XServer): Promise<Viewer> {
    const { sessionId } = await ownPlane.offer('modify');
    const ownViewer = new Viewer(ownPlane, sessionId);
    await ownPlane.waitFor('session.active', (m) => m.sessionId === sessionId);
    const end = ownPlane.waitFor('session.end', (m) => m.sessionId === sessionId);
    await own.close();
    expect((await end).reason).toBe('error');
    return ownViewer;
  }

  it('fails what waits on it, and closing the connection still finishes', async () => {
    const own = await startXorg();
    const connection = await openDisplay(own.display, () => undefined);
    await connection.sync();
    // A request the server never answers, as none will once it has gone.
    const pending = expect(connection.request<void>(() => undefined)).rejects.toThrow('closed the connection');
    await own.close();
    expect((await connection.lost).message).toContain(`X display ${own.display} closed the connection`);
    await pending;
    await expect(connection.sync()).rejects.toThrow('closed the connection');
    await connection.close();
  });

  it('ends the session and takes the room offline when the agent runs in-process, as in the demo', async () => {
    const own = await startXorg();
    const ownPlane = new ControlPlane();
    await ownPlane.listen();
    // The x11 platform points DISPLAY at its server; the other tests read the shared one.
    const display = process.env.DISPLAY;
    try {
      const inProcess = await enrolledAgent(ownPlane, { platform: 'x11', display: own.display });
      const ownViewer = await sessionWhileXGoes(ownPlane, own);
      await ownPlane.waitForAgentGone();
      await inProcess.stop();
      ownViewer.close();
    } finally {
      process.env.DISPLAY = display;
      await ownPlane.kill();
    }
  });

  it('ends the session, and the agent exits for its service to start it again', async () => {
    const own = await startXorg();
    const ownPlane = new ControlPlane();
    await ownPlane.listen();
    const dataDir = mkdtempSync(join(tmpdir(), 'roomlink-x-gone-'));
    await enroll({ serverUrl: ownPlane.url, code: `CODE-${randomUUID()}`, dataDir, platform: 'x11', agentVersion: 'test' });
    const main = join(import.meta.dirname, '../src/main.ts');
    const child = execFile(process.execPath, ['--import', 'tsx', main, 'run', '--data-dir', dataDir, '--platform', 'x11', '--display', own.display, '--loopback-only', '--restart-command', 'true']);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await ownPlane.waitForAgent();
      const ownViewer = await sessionWhileXGoes(ownPlane, own);
      expect(await exited).toBe(1);
      expect(stderr).toContain(`X display ${own.display} closed the connection`);
      ownViewer.close();
    } finally {
      child.kill('SIGKILL');
      await ownPlane.kill();
    }
  });
});
