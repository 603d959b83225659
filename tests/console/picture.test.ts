import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePicture, fragmentPicture, type PictureMessage } from '@roomlink/shared';
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
        const receiver = new PictureReceiver(document.querySelector('canvas'), document.querySelector('video'));
        window.receive = (fragments) => fragments.forEach((f) => receiver.receive(new Uint8Array(f).buffer));
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
  await page.setContent('<canvas></canvas><video muted></video>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
});

afterAll(async () => {
  await browser?.close();
});

const send = (messages: (PictureMessage | Uint8Array)[]) =>
  page.evaluate((fragments) => (window as unknown as { receive(f: number[][]): void }).receive(fragments), messages.flatMap((m) => fragmentPicture(m instanceof Uint8Array ? m : encodePicture(m)).map((f) => [...f])));
const stats = () => page.evaluate(() => (window as unknown as { stats(): { frames: number; tiles: number; dropped: Record<string, number> } }).stats());
const pixel = (x: number, y: number) => page.evaluate(([px, py]) => [...document.querySelector('canvas')!.getContext('2d')!.getImageData(px!, py!, 1, 1).data].slice(0, 3), [x, y]);
const solid = (rgb: [number, number, number]) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).webp({ lossless: true }).toBuffer();
const tile = (frame: number, x: number, y: number, image: Uint8Array, size = 64): PictureMessage => ({ kind: 'tile', epoch: 1, frame, x, y, w: size, h: size, format: 'webp', image });

describe('the console picture receiver', () => {
  it('drops and counts malformed, misplaced, lying and undecodable tiles, and still draws the good ones', async () => {
    const red = await solid([220, 20, 20]);
    await send([{ kind: 'display', epoch: 1, width: 640, height: 360 }, tile(1, 0, 0, red), { kind: 'frameEnd', epoch: 1, frame: 1 }]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(1);
    expect(await pixel(10, 10)).toEqual([220, 20, 20]);

    // A lossless WebP that declares 16000x16000 (a gigabyte of pixels) in a 64x64 tile: refused before any decoding.
    const lossless = Buffer.from(red);
    lossless.writeUInt32LE(((lossless.readUInt32LE(21) & ~0xfffffff) | 15999 | (15999 << 14)) >>> 0, 21);
    await send([
      new Uint8Array([9, 1, 2, 3]),
      tile(2, 600, 0, red),
      tile(2, 64, 0, lossless),
      tile(2, 128, 0, red.subarray(0, 40)),
      { kind: 'frameEnd', epoch: 1, frame: 2 },
    ]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(2);
    expect((await stats()).dropped).toEqual({ malformed: 1, outside_display: 1, size_mismatch: 1, undecodable: 1 });
    expect(await pixel(64 + 10, 10)).toEqual([0, 0, 0]);
    expect(await pixel(128 + 10, 10)).toEqual([0, 0, 0]);

    const green = await solid([20, 200, 60]);
    await send([tile(3, 64, 64, green), { kind: 'frameEnd', epoch: 1, frame: 3 }]);
    await expect.poll(() => pixel(64 + 10, 64 + 10)).toEqual([20, 200, 60]);
    expect(await pixel(10, 10)).toEqual([220, 20, 20]);
  });

  it('ignores tiles of a display the technician has left', async () => {
    const blue = await solid([20, 40, 220]);
    await send([{ kind: 'display', epoch: 2, width: 640, height: 360 }, tile(1, 0, 0, blue), { kind: 'frameEnd', epoch: 1, frame: 1 }]);
    const before = (await stats()).frames;
    await send([{ kind: 'frameEnd', epoch: 2, frame: 1 }]);
    await expect.poll(() => stats().then((s) => s.frames)).toBe(before + 1);
    expect(await pixel(10, 10)).not.toEqual([20, 40, 220]);
  });
});
