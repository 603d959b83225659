import { Monitor } from 'node-screenshots';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enrolledAgent, type TestAgent } from './support/agent';
import { ControlPlane } from './support/control-plane';
import { startXorg, type XServer } from './support/xorg';
import { eventually, Viewer, type Picture } from './support/viewer';

/**
 * The picture path on a real X server: tiles for text and UI (exact),
 * photographic regions lossy at once and exact once still, video for a
 * region in sustained motion, a whole picture after a display switch —
 * compared pixel by pixel with what the X server shows.
 */

let xserver: XServer;
let plane: ControlPlane;
let room: TestAgent;
let viewer: Viewer | null = null;
let browser: Browser;
let page: Page;

const logLines = Array.from({ length: 48 }, (_, i) => `<div>14:${String(i).padStart(2, '0')}:07 roomlink-agent[1234]: capture ready (reading=shm) session=5f3e${i} display=console keys=${i * 7}</div>`).join('');
const html = `<!doctype html><title>roomlink-picture</title>
<style>body{margin:0;background:#0c2340;color:#e6e6e6;font:15px monospace}canvas{position:fixed;right:40px;top:40px}</style>
${logLines}<canvas id="photo" width="640" height="360"></canvas>
<div id="cover" style="display:none;position:fixed;inset:0;z-index:1;background:#fff;color:#222;font:14px sans-serif;padding:20px">${Array.from({ length: 20 }, (_, i) => `<label><input type="checkbox"> Setting ${i + 1}: what it does</label><br>`).join('')}</div>
<script>
const context = document.getElementById('photo').getContext('2d');
// A photograph stand-in: a colour gradient with grain; a few of them made up front, so that animating costs the page little.
const photos = Array.from({ length: 8 }, (_, seed) => {
  const image = context.createImageData(640, 360);
  for (let i = 0; i < image.data.length; i += 4) {
    const x = (i / 4) % 640, y = Math.floor(i / 4 / 640);
    const grain = Math.random() * 40;
    image.data[i] = (x * 0.4 + seed * 29 + grain) % 256;
    image.data[i + 1] = (y * 0.7 + grain) % 256;
    image.data[i + 2] = ((x + y) * 0.2 + seed * 7 + grain) % 256;
    image.data[i + 3] = 255;
  }
  return image;
});
let shown = 0;
window.photo = () => context.putImageData(photos[shown++ % photos.length], 0, 0);
window.cover = (on) => { document.getElementById('cover').style.display = on ? 'block' : 'none'; };
let timer = 0;
window.animate = (on) => { clearInterval(timer); if (on) timer = setInterval(window.photo, 33); };
</script>`;

beforeAll(async () => {
  xserver = await startXorg();
  plane = new ControlPlane();
  await plane.listen();
  room = await enrolledAgent(plane, { platform: 'x11', display: xserver.display });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: false,
    env: { ...process.env, DISPLAY: xserver.display },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-position=0,0', '--window-size=1920,1080'],
  });
  page = await browser.newPage({ viewport: null });
  await page.setContent(html);
});

afterEach(async () => {
  await page.evaluate('window.animate(false)');
  viewer?.close();
  viewer = null;
  const session = room.agent.currentSession;
  if (session) await session.end('user_ended');
});

afterAll(async () => {
  await browser?.close();
  await room?.stop();
  await plane?.kill();
  await xserver?.close();
});

async function openSession() {
  const { sessionId } = await plane.offer('view');
  viewer = new Viewer(plane, sessionId);
  await plane.waitFor('session.active', (m) => m.sessionId === sessionId);
  await viewer.waitForMessage('session.info');
  await eventually(() => viewer!.framesReceived > 0, 'the first picture');
  return viewer;
}

/** The largest difference of any colour channel between the viewer's picture and the X server's pixels of that monitor. */
async function largestDifference(picture: Picture, monitorIndex: number): Promise<number> {
  const monitor = Monitor.all().sort((a, b) => a.x() - b.x())[monitorIndex]!;
  const image = await monitor.captureImage();
  const screen = await image.toRaw();
  expect([picture.width, picture.height]).toEqual([image.width, image.height]);
  let largest = 0;
  for (let i = 0; i < screen.length; i += 4) {
    for (let c = 0; c < 3; c++) largest = Math.max(largest, Math.abs(screen[i + c]! - picture.rgba[i + c]!));
  }
  return largest;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));

describe('the picture of a display', () => {
  it('is exact for a text-heavy screen', async () => {
    const viewer = await openSession();
    await settle();
    await viewer.drawn();
    expect(await largestDifference(viewer.frame!, 0)).toBeLessThanOrEqual(2);
    const tiles = viewer.pictureLog.filter((m) => m.kind === 'tile');
    expect(tiles.length).toBeGreaterThan(0);
  });

  it('draws a window closed again from the console’s tile cache, exactly', async () => {
    const viewer = await openSession();
    await settle();
    await page.evaluate('window.cover(true)');
    await settle();
    const before = viewer.pictureLog.length;
    await page.evaluate('window.cover(false)');
    await settle();
    await viewer.drawn();
    expect(await largestDifference(viewer.frame!, 0)).toBeLessThanOrEqual(2);
    const tiles = viewer.pictureLog.slice(before).filter((m) => m.kind === 'tile');
    const area = (format?: string) => tiles.filter((t) => !format || t.format === format).reduce((sum, t) => sum + t.w * t.h, 0);
    // The log under the settings page was seen at the session's start: nearly all of it comes from the cache, its plain background (half the screen) as fills.
    expect(area('cached') + area('fill')).toBeGreaterThan(0.9 * area());
    expect(area('cached')).toBeGreaterThan(0.4 * area());
    expect(area()).toBeGreaterThan(0.9 * 1920 * 1080);
  });

  it('sends a photographic region lossy at once, then exactly once it is still', async () => {
    const viewer = await openSession();
    const before = viewer.pictureLog.length;
    await page.evaluate('window.photo()');
    await eventually(() => viewer.pictureLog.slice(before).some((m) => m.kind === 'tile' && m.format === 'jpeg'), 'lossy tiles of the photo');
    await settle();
    await viewer.drawn();
    const after = viewer.pictureLog.slice(before);
    const lastLossy = after.findLastIndex((m) => m.kind === 'tile' && m.format === 'jpeg');
    expect(after.slice(lastLossy).some((m) => m.kind === 'tile' && m.format === 'webp')).toBe(true);
    expect(await largestDifference(viewer.frame!, 0)).toBeLessThanOrEqual(2);
  });

  it('sends a region in sustained motion as video, and the region exactly once it stops', async () => {
    const viewer = await openSession();
    await page.evaluate('window.animate(true)');
    const region = await eventually(() => viewer.region, 'a video region', 15_000);
    // The canvas: 640x360 at 40 px from the top right corner of a 1920-wide monitor.
    expect(region.x).toBeLessThanOrEqual(1920 - 40 - 640);
    expect(region.x + region.w).toBeGreaterThanOrEqual(1920 - 40);
    expect(region.w * region.h).toBeLessThan((1920 * 1080) / 4);
    await eventually(() => viewer.videoFrames > 10, 'video frames in the region');
    await page.evaluate('window.animate(false)');
    await eventually(() => viewer.region === null, 'the region ends once still');
    await settle();
    await viewer.drawn();
    expect(await largestDifference(viewer.frame!, 0)).toBeLessThanOrEqual(2);
  }, 45_000);

  it('sends a whole picture of the other display when the technician switches, even mid-stream', async () => {
    const viewer = await openSession();
    await page.evaluate('window.animate(true)');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = viewer.pictureLog.length;
    viewer.send({ type: 'control.selectDisplay', displayId: 'frontOfRoom1' as never });
    await viewer.waitForMessage('session.info', (m) => m.selectedDisplay === 'frontOfRoom1');
    await eventually(() => viewer.pictureLog.slice(before).some((m) => m.kind === 'frameEnd' && m.epoch === 2), 'a frame of the new display');
    const switched = viewer.pictureLog.slice(before);
    const display = switched.findIndex((m) => m.kind === 'display' && m.epoch === 2);
    expect(display).toBeGreaterThanOrEqual(0);
    const firstEnd = switched.find((m) => m.kind === 'frameEnd' && m.epoch === 2)!;
    const firstFrame = switched.slice(display).flatMap((m) => (m.kind === 'tile' && m.epoch === 2 && 'frame' in firstEnd && m.frame === firstEnd.frame ? [m] : []));
    expect(firstFrame.reduce((sum, t) => sum + t.w * t.h, 0)).toBe(1920 * 1080);
    await settle();
    await viewer.drawn();
    expect(await largestDifference(viewer.frame!, 1)).toBeLessThanOrEqual(2);
  });
});
