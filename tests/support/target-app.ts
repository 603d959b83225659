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
  /** Changes what a key repaints, for benchmarks that split the cost of a key by what it changes. */
  layout(layout: TargetLayout): Promise<void>;
  /** Full-screen animation: every frame a new colour and a moving block, so every pixel changes. */
  animate(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface TargetLayout {
  /**
   * What a key recolours: the whole screen or only a 480x270
   * panel at the bottom centre, a sixteenth of the screen, over the same
   * point of it.
   */
  recolour: 'screen' | 'panel';
  /** Whether the text typed so far is shown: white anti-aliased type over the recoloured background. */
  typedText: boolean;
}

/** What the app shows when it starts, and what the tests type into. */
export const DEFAULT_LAYOUT: TargetLayout = { recolour: 'screen', typedText: true };

export const TITLE = 'roomlink-target';

const html = `<!doctype html><title>${TITLE}</title>
<style>html,body{margin:0;height:100%}body{display:grid;place-items:center;align-content:center;font:bold 160px/1.1 sans-serif;color:#fff;background:rgb(40,40,40)}#text{font-size:64px}#panel{display:none;position:fixed;left:calc(50% - 240px);bottom:0;width:480px;height:270px}</style>
<div id="key">—</div><div id="text"></div><div id="panel"></div>
<script>
const text = [];
let count = 0;
window.recoloured = document.body;
window.layout = ({ recolour, typedText }) => {
  document.body.style.background = '';
  window.recoloured = recolour === 'panel' ? document.getElementById('panel') : document.body;
  document.getElementById('panel').style.display = recolour === 'panel' ? 'block' : 'none';
  document.getElementById('text').style.display = typedText ? '' : 'none';
};
addEventListener('keydown', (event) => {
  count += 1;
  // A hue walk that never repeats a neighbour's colour, bright enough to read from a compressed video.
  const hue = (count * 137) % 360;
  window.recoloured.style.background = 'hsl(' + hue + ', 80%, 45%)';
  document.getElementById('key').textContent = event.key === ' ' ? 'Space' : event.key;
  if (event.key.length === 1) text.push(event.key);
  document.getElementById('text').textContent = text.join('');
  event.preventDefault();
});
let animating = false;
function frame(t) {
  if (!animating) return;
  document.body.style.background = 'hsl(' + Math.floor(t / 8) % 360 + ', 80%, 45%)';
  document.getElementById('key').style.transform = 'translateX(' + Math.round(600 * Math.sin(t / 300)) + 'px)';
  requestAnimationFrame(frame);
}
window.animate = (on) => { animating = on; if (on) requestAnimationFrame(frame); };
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
        const [r, g, b] = getComputedStyle((window as unknown as { recoloured: HTMLElement }).recoloured).backgroundColor.match(/\d+/g)!.map(Number);
        return [r!, g!, b!] as [number, number, number];
      }),
    layout: (layout) => page.evaluate(`window.layout(${JSON.stringify(layout)})`),
    animate: (on) => page.evaluate(`window.animate(${on})`),
    close: () => browser.close(),
  };
}
