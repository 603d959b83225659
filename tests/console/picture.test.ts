import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePicture, fragmentPicture, type PictureMessage, type Tile } from '@roomlink/shared';
import { launchChromium } from '../support/chromium';

/**
 * The console's picture receiver in Chromium, fed what a broken or hostile
 * room could send: every bad message is dropped and counted by reason, none
 * is drawn, none is decoded when its header already lies, and good tiles
 * around them still draw.
 */

let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    stdin: {
      contents: `import { PictureReceiver } from './apps/console/src/renderer/session/picture.ts';
        const receiver = new PictureReceiver(document.querySelector('canvas'));
        window.receive = (fragments) => fragments.forEach((f) => receiver.receive(new Uint8Array(f).buffer));
        window.showVideo = (track) => receiver.showVideo(track);
        window.stats = () => receiver.stats;`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setContent('<canvas></canvas>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
});

afterAll(async () => {
  await browser?.close();
});

const send = (messages: (PictureMessage | Uint8Array)[]) =>
  page.evaluate((fragments) => (window as unknown as { receive(f: number[][]): void }).receive(fragments), messages.flatMap((m) => fragmentPicture(m instanceof Uint8Array ? m : encodePicture(m)).map((f) => [...f])));
const stats = () => page.evaluate(() => (window as unknown as { stats(): { frames: number; tiles: number; cachedTiles: number; dropped: Record<string, number> } }).stats());
const pixel = (x: number, y: number) => page.evaluate(([px, py]) => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(px!, py!, 1, 1).data].slice(0, 3), [x, y]);
const solid = (rgb: [number, number, number]) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).webp({ lossless: true }).toBuffer();
const webp = (x: number, y: number, image: Uint8Array, size = 64): Tile => ({ x, y, w: size, h: size, format: 'webp', image });
const fill = (x: number, y: number, w: number, h: number, rgb: [number, number, number]): Tile => ({ x, y, w, h, format: 'fill', image: new Uint8Array(rgb) });
const frame = (number: number, tiles: Tile[], last = true, epoch = 1): PictureMessage => ({ kind: 'tiles', epoch, frame: number, last, tiles });
/** A rectangle's RGB rows (a 2-colour pattern, like a glyph) as the room deflates them. */
const glyph = (w: number, h: number) => Uint8Array.from({ length: w * h * 3 }, (_, i) => ((Math.floor(i / 3) % 3 === 0 ? 240 : 10) + (i % 3)));

describe('the console picture receiver', () => {
  it('drops and counts malformed, misplaced, lying and undecodable tiles, and still draws the good ones', async () => {
    const red = await solid([220, 20, 20]);
    await send([{ kind: 'display', epoch: 1, width: 640, height: 360 }, frame(1, [webp(0, 0, red)])]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(1);
    expect(await pixel(10, 10)).toEqual([220, 20, 20]);

    // A lossless WebP that declares 16000x16000 (a gigabyte of pixels) in a 64x64 tile: refused before any decoding.
    const lossless = Buffer.from(red);
    lossless.writeUInt32LE(((lossless.readUInt32LE(21) & ~0xfffffff) | 15999 | (15999 << 14)) >>> 0, 21);
    await send([
      new Uint8Array([9, 1, 2, 3]),
      frame(2, [webp(600, 0, red), webp(64, 0, lossless)], false),
      frame(2, [webp(128, 0, red.subarray(0, 40)), fill(300, 0, 20, 20, [1, 2, 3])]),
    ]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(2);
    expect((await stats()).dropped).toEqual({ malformed: 1, outside_display: 1, size_mismatch: 1, undecodable: 1 });
    expect(await pixel(64 + 10, 10)).toEqual([0, 0, 0]);
    expect(await pixel(128 + 10, 10)).toEqual([0, 0, 0]);
    expect(await pixel(310, 10)).toEqual([1, 2, 3]);

    const green = await solid([20, 200, 60]);
    await send([frame(3, [webp(64, 64, green)])]);
    await expect.poll(() => pixel(64 + 10, 64 + 10)).toEqual([20, 200, 60]);
    expect(await pixel(10, 10)).toEqual([220, 20, 20]);
  });

  it('draws a small change (a fill and deflated pixels) exactly, in the task it arrives in', async () => {
    await send([{ kind: 'display', epoch: 5, width: 640, height: 360 }]);
    const pixels = glyph(9, 15);
    const drawn = await page.evaluate(
      ([fragments]) => {
        (window as unknown as { receive(f: number[][]): void }).receive(fragments!);
        // No await between receiving and reading: the frame must already be on the canvas.
        const context = document.querySelector('canvas')!.getContext('2d')!;
        return [[...context.getImageData(40, 40, 1, 1).data].slice(0, 3), [...context.getImageData(200, 100, 9, 15).data]];
      },
      [fragmentPicture(encodePicture(frame(1, [fill(30, 30, 40, 40, [240, 192, 32]), { x: 200, y: 100, w: 9, h: 15, format: 'zlib', image: deflateRawSync(pixels) }], true, 5))).map((f) => [...f])],
    );
    expect(drawn[0]).toEqual([240, 192, 32]);
    const expected = Array.from({ length: 9 * 15 }, (_, p) => [...pixels.subarray(p * 3, p * 3 + 3), 255]).flat();
    expect(drawn[1]).toEqual(expected);
  });

  it('refuses deflated pixels that are not what their tile says: junk, too few, or more than the tile holds', async () => {
    await send([{ kind: 'display', epoch: 6, width: 640, height: 360 }, frame(1, [fill(0, 0, 640, 360, [0, 0, 0])], true, 6)]);
    const before = await stats();
    await send([
      frame(
        2,
        [
          { x: 0, y: 0, w: 8, h: 8, format: 'zlib', image: new Uint8Array([1, 2, 3, 4, 5]) },
          { x: 16, y: 0, w: 8, h: 8, format: 'zlib', image: deflateRawSync(glyph(8, 7)) },
          { x: 32, y: 0, w: 8, h: 8, format: 'zlib', image: deflateRawSync(glyph(8, 9)) },
          // A deflate bomb: 64x64 declared, a megabyte inside.
          { x: 48, y: 0, w: 64, h: 64, format: 'zlib', image: deflateRawSync(new Uint8Array(1 << 20)) },
        ],
        true,
        6,
      ),
    ]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(before.frames + 1);
    const after = (await stats()).dropped;
    expect((after.undecodable ?? 0) - (before.dropped.undecodable ?? 0)).toBe(1);
    expect((after.size_mismatch ?? 0) - (before.dropped.size_mismatch ?? 0)).toBe(3);
    for (const x of [0, 16, 32, 48]) expect(await pixel(x + 2, 2)).toEqual([0, 0, 0]);
  });

  it('keeps the cells the room names and draws them again exactly; a slot never kept (on a page in use or not), kept at another size or emptied by a new display is a counted cache miss', async () => {
    const epoch = 7;
    const pixels = glyph(64, 64);
    const cached = (x: number, y: number, slot: number, size = 64): Tile => ({ x, y, w: size, h: size, format: 'cached', image: new Uint8Array([slot & 0xff, slot >>> 8]) });
    const start = await stats();
    await send([
      { kind: 'display', epoch, width: 640, height: 360 },
      frame(1, [{ x: 0, y: 0, w: 64, h: 64, format: 'zlib', image: deflateRawSync(pixels) }, fill(64, 0, 64, 64, [30, 60, 90])], true, epoch),
      { kind: 'keep', epoch, frame: 1, cells: [{ x: 0, y: 0, w: 64, h: 64, slot: 5 }, { x: 64, y: 0, w: 64, h: 64, slot: 2047 }, { x: 620, y: 0, w: 64, h: 64, slot: 9 }] },
      frame(2, [fill(0, 0, 640, 360, [0, 0, 0])], true, epoch),
    ]);
    await expect.poll(() => pixel(70, 10)).toEqual([0, 0, 0]);
    const before = await stats();
    // The cell reaching past the display's edge is refused as it comes; the other two are kept.
    expect(before.dropped.outside_display).toBe((start.dropped.outside_display ?? 0) + 1);
    await send([frame(3, [cached(128, 128, 5), cached(0, 0, 2047), cached(300, 0, 6), cached(400, 0, 1000), cached(256, 256, 5, 32)], true, epoch)]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(before.frames + 1);
    const drawn = await page.evaluate(() => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(128, 128, 64, 64).data]);
    expect(drawn).toEqual(Array.from({ length: 64 * 64 }, (_, p) => [...pixels.subarray(p * 3, p * 3 + 3), 255]).flat());
    expect(await pixel(10, 10)).toEqual([30, 60, 90]);
    expect(await pixel(310, 10)).toEqual([0, 0, 0]);
    expect(await pixel(410, 10)).toEqual([0, 0, 0]);
    const after = await stats();
    expect(after.cachedTiles - before.cachedTiles).toBe(2);
    expect((after.dropped.cache_miss ?? 0) - (before.dropped.cache_miss ?? 0)).toBe(3);

    await send([{ kind: 'display', epoch: epoch + 1, width: 640, height: 360 }, frame(1, [cached(0, 0, 5)], true, epoch + 1)]);
    await expect.poll(() => stats().then((s) => s.dropped.cache_miss)).toBe((after.dropped.cache_miss ?? 0) + 1);
  });

  it('draws each frame of the video track into the moving region, none of a shape the region cannot have, and goes on past a frame it cannot draw', async () => {
    await send([{ kind: 'display', epoch: 9, width: 640, height: 360 }, frame(1, [fill(0, 0, 640, 360, [0, 0, 0])], true, 9)]);
    // A room's video track: a canvas repainted 50 times a second, its frames counted beside the receiver's.
    await page.evaluate(() => {
      const source = document.createElement('canvas');
      Object.assign(source, { width: 128, height: 72 });
      const context = source.getContext('2d')!;
      const w = window as unknown as Record<string, unknown>;
      w.paint = (width: number, height: number, colour: string) => {
        Object.assign(source, { width, height });
        w.colour = colour;
      };
      w.colour = 'rgb(200, 30, 40)';
      setInterval(() => {
        context.fillStyle = w.colour as string;
        context.fillRect(0, 0, source.width, source.height);
      }, 20);
      const track = source.captureStream(50).getVideoTracks()[0]!;
      w.framesSeen = 0;
      const count = new (w.MediaStreamTrackProcessor as new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> })({ track: track.clone() }).readable.getReader();
      const next = (): void => void count.read().then(({ value }) => (value!.close(), (w.framesSeen as number)++, next()));
      next();
      (w.showVideo as (track: MediaStreamTrack) => void)(track);
    });
    const framesSeen = () => page.evaluate(() => (window as unknown as { framesSeen: number }).framesSeen);
    const near = (rgb: number[], expected: number[]) => rgb.every((v, i) => Math.abs(v - expected[i]!) <= 3);
    await send([{ kind: 'video', epoch: 9, frame: 2, x: 64, y: 64, w: 128, h: 72 }]);
    await expect.poll(async () => near(await pixel(100, 100), [200, 30, 40])).toBe(true);

    // A region of another shape: the 16:9 frames still coming are not drawn in it.
    await send([{ kind: 'video', epoch: 9, frame: 3, x: 320, y: 64, w: 144, h: 72 }]);
    const seen = await framesSeen();
    await expect.poll(framesSeen).toBeGreaterThan(seen + 5);
    expect(await pixel(400, 100)).toEqual([0, 0, 0]);
    // Frames of its shape are, scaled down ones too.
    await page.evaluate(() => (window as unknown as { paint(w: number, h: number, c: string): void }).paint(72, 36, 'rgb(30, 200, 90)'));
    await expect.poll(async () => near(await pixel(400, 100), [30, 200, 90])).toBe(true);
    expect(near(await pixel(100, 100), [200, 30, 40])).toBe(true);

    // A frame the canvas refuses to draw is counted as dropped, and the frames after it are drawn.
    const dropped = (await stats()).dropped.malformed ?? 0;
    await page.evaluate(() => {
      const drawImage = CanvasRenderingContext2D.prototype.drawImage;
      CanvasRenderingContext2D.prototype.drawImage = function (this: CanvasRenderingContext2D, ...args: unknown[]) {
        CanvasRenderingContext2D.prototype.drawImage = drawImage;
        if (args[0] instanceof VideoFrame) throw new DOMException('The frame is gone.', 'InvalidStateError');
        return (drawImage as (...a: unknown[]) => void).apply(this, args);
      } as typeof drawImage;
      (window as unknown as { paint(w: number, h: number, c: string): void }).paint(72, 36, 'rgb(90, 30, 200)');
    });
    await expect.poll(async () => near(await pixel(400, 100), [90, 30, 200])).toBe(true);
    expect((await stats()).dropped.malformed).toBe(dropped + 1);
  });

  it('shows every video frame for a paint of its own, also two decoded between two paints', async () => {
    await send([{ kind: 'display', epoch: 10, width: 640, height: 360 }, frame(1, [fill(0, 0, 640, 360, [0, 0, 0])], true, 10), { kind: 'video', epoch: 10, frame: 2, x: 0, y: 0, w: 128, h: 72 }]);
    // Frames straight into a track (no codec, exact colours), and what the canvas holds at each paint.
    await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      const generator = new (w.MediaStreamTrackGenerator as new (init: { kind: 'video' }) => MediaStreamTrack & { writable: WritableStream<VideoFrame> })({ kind: 'video' });
      const writer = generator.writable.getWriter();
      const source = new OffscreenCanvas(128, 72);
      const context = source.getContext('2d')!;
      let timestamp = 0;
      w.pair = async (first: number, second: number) => {
        for (const red of [first, second]) {
          context.fillStyle = `rgb(${red}, 0, 0)`;
          context.fillRect(0, 0, 128, 72);
          await writer.write(new VideoFrame(source, { timestamp: (timestamp += 1000) }));
        }
      };
      const shown = new Set<number>();
      w.shown = shown;
      const canvas = document.querySelector('canvas')!.getContext('2d')!;
      const sample = () => {
        shown.add(canvas.getImageData(10, 10, 1, 1).data[0]!);
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
      (w.showVideo as (track: MediaStreamTrack) => void)(generator);
    });
    const reds = [40, 80, 120, 160, 200, 240];
    for (let i = 0; i < reds.length; i += 2) {
      await page.evaluate(([a, b]) => (window as unknown as { pair(a: number, b: number): Promise<void> }).pair(a!, b!), [reds[i]!, reds[i + 1]!]);
      await page.waitForTimeout(100);
    }
    const shown = await page.evaluate(() => [...(window as unknown as { shown: Set<number> }).shown]);
    expect(reds.filter((red) => !shown.includes(red))).toEqual([]);
  });

  it('ignores tiles of a display the technician has left', async () => {
    const blue = await solid([20, 40, 220]);
    await send([{ kind: 'display', epoch: 2, width: 640, height: 360 }, frame(1, [webp(0, 0, blue)])]);
    const before = (await stats()).frames;
    await send([frame(1, [fill(100, 100, 8, 8, [9, 9, 9])], true, 2)]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(before + 1);
    expect(await pixel(10, 10)).not.toEqual([20, 40, 220]);
  });
});
