import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs } from './chromium';

/**
 * The app on the room's display that tests and benchmarks type into: a
 * window filling one monitor that shows, in large type, the last key it
 * received and the text so far, and takes a new background colour on every
 * key — so a key's arrival can be seen in pixels, on the display and in the
 * console's video.
 */
export interface TargetApp {
  page: Page;
  /** Gives the window X focus (there is no window manager to do it). */
  focus(): void;
  text(): Promise<string>;
  /** Forgets the text typed so far, so that runs of keys each start from the same screen. */
  clearText(): Promise<void>;
  /** The colour the last key set, as the page sets it. */
  colour(): Promise<[number, number, number]>;
  /** Changes what a key repaints (see `Workload`); the text typed so far starts empty. */
  workload(workload: Workload): Promise<void>;
  /** Plays the video workload's region at 30 fps, or stops it. */
  play(on: boolean): Promise<void>;
  /** How many video frames the app has drawn since the page opened: what it managed of its 30 fps. */
  videoFrames(): Promise<number>;
  /** Where the page's top left corner is on the monitor: below the browser's tab strip and address bar. */
  pageOrigin(): Promise<[number, number]>;
  close(): Promise<void>;
}

/**
 * What a key press repaints, for the benchmarks' workloads:
 * - `recolour`: the whole screen in a new colour under the big key name and the text typed so far (what the tests type into);
 * - `typing`: a terminal line gains a character, and a caret-sized block changes colour (a few characters' worth);
 * - `photo`: a quarter of the screen (960x540, centred) shows another photograph-like picture;
 * - `screen`: the whole screen turns into another window (a log on navy, a settings page on white), the two taking turns;
 * - `fresh-photo`, `fresh-screen`: the same, but never a picture shown before (the photo moved by a few pixels, the window's text numbered by the key), so no cache can help;
 * - `video`: a 640x360 region plays at 30 fps while `play(true)`; keys change only the typed text. Each of its 8 frames has
 *   a flat block at its centre in a corner of the RGB cube, its number in binary, so a client's picture there tells which
 *   frame it shows whatever the codec did to the grain around it.
 */
export type Workload = 'recolour' | 'typing' | 'photo' | 'screen' | 'fresh-photo' | 'fresh-screen' | 'video';

/** Where each workload's key shows, in page pixels: a point whose colour changes by far on every key. */
export const samplePoints: Record<Workload, [number, number]> = {
  recolour: [960, 800],
  typing: [110, 110],
  photo: [960, 540],
  screen: [1700, 800],
  'fresh-photo': [960, 540],
  'fresh-screen': [1700, 800],
  video: [100 + 320, 600 + 180],
};

export const TITLE = 'roomlink-target';

const html = `<!doctype html><title>${TITLE}</title>
<style>html,body{margin:0;height:100%}body{display:grid;place-items:center;align-content:center;font:bold 160px/1.1 sans-serif;color:#fff;background:rgb(40,40,40)}#text{font-size:64px}
.layer{display:none;position:fixed;inset:0}#typing{background:#101418;color:#d0d0d0;font:16px monospace;padding:80px 0 0 100px}#caret{position:fixed;left:90px;top:90px;width:40px;height:40px}
#log{background:#0c2340;color:#e6e6e6;font:15px monospace}#settings{background:#fff;color:#222;font:14px sans-serif;padding:20px}canvas{position:fixed;display:none}</style>
<div id="key">—</div><div id="text"></div>
<div id="typing" class="layer"><div id="caret"></div><div id="line" style="margin-top:60px"></div></div>
<div id="log" class="layer"></div><div id="settings" class="layer"></div>
<canvas id="photo" width="960" height="540" style="left:480px;top:270px"></canvas><canvas id="video" width="640" height="360" style="left:100px;top:600px"></canvas>
<script>
// The two windows of the screen workloads, their text moved right by \`shift\` pixels: a fresh one is never a picture shown before.
const logLines = (shift) => '<div style="padding-left:' + shift + 'px">' + Array.from({ length: 60 }, (_, i) => '<div>14:' + String(i).padStart(2, '0') + ':07 roomlink-agent[1234]: capture ready (reading=shm) session=5f3e' + i + ' display=console keys=' + i * 7 + '</div>').join('') + '</div>';
const settings = (shift) => '<div style="padding-left:' + shift + 'px"><h1>Device settings</h1>' + Array.from({ length: 14 }, (_, i) => '<label><input type="checkbox" ' + (i % 3 ? 'checked' : '') + '> Setting ' + (i + 1) + ': a longer description of what it does</label><br><button>Apply</button><hr>').join('') + '</div>';
document.getElementById('log').innerHTML = logLines(0);
document.getElementById('settings').innerHTML = settings(0);
const text = [];
let count = 0;
let workload = 'recolour';
const $ = (id) => document.getElementById(id);
// Photograph stand-ins: gradients with grain, made up front so that showing one costs the app little.
function pictures(width, height, n) {
  const context = document.createElement('canvas').getContext('2d');
  return Array.from({ length: n }, (_, seed) => {
    const image = context.createImageData(width, height);
    for (let i = 0; i < image.data.length; i += 4) {
      const x = (i / 4) % width, y = Math.floor(i / 4 / width), grain = Math.random() * 40;
      image.data[i] = (x * 0.25 + seed * 97 + grain) % 256;
      image.data[i + 1] = (y * 0.4 + seed * 53 + grain) % 256;
      image.data[i + 2] = ((x + y) * 0.1 + seed * 31 + grain) % 256;
      image.data[i + 3] = 255;
    }
    return image;
  });
}
const photos = pictures(960, 540, 8);
const frames = pictures(640, 360, 8);
frames.forEach((frame, seed) => {
  for (let y = 156; y < 204; y++) for (let x = 296; x < 344; x++) frame.data.set([seed & 1 ? 255 : 0, seed & 2 ? 255 : 0, seed & 4 ? 255 : 0], (y * 640 + x) * 4);
});
window.workload = (name) => {
  workload = name;
  text.length = 0;
  $('text').textContent = '';
  $('line').textContent = '$ ';
  document.body.style.background = '';
  for (const id of ['typing', 'log', 'settings']) $(id).style.display = 'none';
  $('photo').style.display = name.endsWith('photo') ? 'block' : 'none';
  $('video').style.display = name === 'video' ? 'block' : 'none';
  if (name === 'typing') $('typing').style.display = 'block';
  if (name.endsWith('screen')) $('log').style.display = 'block';
  if (name.endsWith('photo')) $('photo').getContext('2d').putImageData(photos[0], 0, 0);
};
addEventListener('keydown', (event) => {
  count += 1;
  if (event.key.length === 1) text.push(event.key);
  event.preventDefault();
  if (workload === 'typing') {
    $('line').textContent = '$ ' + text.join('');
    $('caret').style.background = count % 2 ? '#f0c020' : '#2060f0';
  } else if (workload === 'photo') {
    $('photo').getContext('2d').putImageData(photos[count % photos.length], 0, 0);
  } else if (workload === 'fresh-photo') {
    $('photo').getContext('2d').putImageData(photos[count % photos.length], (count * 13) % 64, 0);
  } else if (workload.endsWith('screen')) {
    const log = $('log').style.display === 'none';
    if (workload === 'fresh-screen') {
      if (log) $('log').innerHTML = logLines(count % 61);
      else $('settings').innerHTML = settings(count % 61);
    }
    $('log').style.display = log ? 'block' : 'none';
    $('settings').style.display = log ? 'none' : 'block';
  } else {
    // A hue walk that never repeats a neighbour's colour, bright enough to read from a compressed video.
    const hue = (count * 137) % 360;
    document.body.style.background = 'hsl(' + hue + ', 80%, 45%)';
    $('key').textContent = event.key === ' ' ? 'Space' : event.key;
    $('text').textContent = text.join('');
  }
});
let player = 0;
let shown = 0;
window.play = (on) => {
  clearInterval(player);
  if (on) player = setInterval(() => $('video').getContext('2d').putImageData(frames[shown++ % frames.length], 0, 0), 1000 / 30);
};
</script>`;

export async function startTargetApp(display: string, monitor: { x: number; y: number; width: number; height: number }): Promise<TargetApp> {
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: false,
    env: { ...process.env, DISPLAY: display },
    args: [...chromiumArgs, `--window-position=${monitor.x},${monitor.y}`, `--window-size=${monitor.width},${monitor.height}`],
  });
  const page = await browser.newPage({ viewport: null });
  await page.setContent(html);
  const env = { ...process.env, DISPLAY: display };
  return {
    page,
    focus: () => {
      const ids = execFileSync('xdotool', ['search', '--sync', '--onlyvisible', '--name', TITLE], { env }).toString().trim().split('\n');
      execFileSync('xdotool', ['windowfocus', '--sync', ids[0]!], { env });
    },
    text: () => page.locator('#text').textContent().then((t) => t ?? ''),
    clearText: () => page.evaluate(`text.length = 0; document.getElementById('text').textContent = ''`),
    colour: () =>
      page.evaluate(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.map(Number);
        return [r!, g!, b!] as [number, number, number];
      }),
    workload: (workload) => page.evaluate(`window.workload(${JSON.stringify(workload)})`),
    play: (on) => page.evaluate(`window.play(${on})`),
    videoFrames: () => page.evaluate<number>('shown'),
    pageOrigin: () => page.evaluate(() => [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight] as [number, number]),
    close: () => browser.close(),
  };
}
