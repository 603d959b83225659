import wrtc from '@roamhq/wrtc';
import sharp from 'sharp';
import type { PictureMessage, Rect } from '@roomlink/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { Capture, Frame, Monitor } from '../src/core/platform';
import { defaultPumpOptions, PicturePump, type PictureOut, type PumpOptions } from '../src/core/picture/picture-pump';
import { eventually } from './support/viewer';

/**
 * The picture pump against a screen the test paints and a channel the test
 * controls: when it captures, what it sends, and what it does while the
 * console is not reading.
 */

const WIDTH = 512;
const HEIGHT = 256;
const monitor: Monitor = { id: 'M', name: 'M', primary: true, x: 0, y: 0, width: WIDTH, height: HEIGHT };

/** A screen the test paints; every paint is reported as damage, as X DAMAGE would. */
class PaintedScreen implements Capture {
  readonly rgba = new Uint8Array(WIDTH * HEIGHT * 4).fill(255);
  grabs = 0;
  private changed: (() => void) | null = null;

  async grab(): Promise<Frame> {
    this.grabs += 1;
    return { width: WIDTH, height: HEIGHT, data: new Uint8Array(this.rgba) };
  }

  watch(_monitor: Monitor, changed: () => void): () => void {
    this.changed = changed;
    return () => (this.changed = null);
  }

  paint(rect: Rect, colour: (x: number, y: number) => [number, number, number]): void {
    for (let y = rect.y; y < rect.y + rect.h; y++) {
      for (let x = rect.x; x < rect.x + rect.w; x++) this.rgba.set([...colour(x, y), 255], (y * WIDTH + x) * 4);
    }
    this.changed?.();
  }
}

/** A picture channel whose reader the test can stop: what is sent while stopped stays buffered. */
class Channel implements PictureOut {
  readonly open = true;
  buffered = 0;
  reading = true;
  readonly sent: PictureMessage[] = [];
  readonly video = new wrtc.nonstandard.RTCVideoSource();

  sendPicture(message: PictureMessage): void {
    this.sent.push(message);
    if (!this.reading && message.kind === 'tile') this.buffered += message.image.byteLength;
  }

  drain(): void {
    this.reading = true;
    this.buffered = 0;
  }

  frameEnds(): number {
    return this.sent.filter((m) => m.kind === 'frameEnd').length;
  }
}

const noise = (): [number, number, number] => [Math.random() * 256, Math.random() * 256, Math.random() * 256].map(Math.floor) as [number, number, number];
const flat =
  (r: number, g: number, b: number) =>
  (): [number, number, number] => [r, g, b];

let pump: PicturePump | null = null;
afterEach(() => {
  pump?.stop();
  pump = null;
});

function start(screen: PaintedScreen, channel: Channel, options: Partial<PumpOptions> = {}): PicturePump {
  pump = new PicturePump(screen, monitor, channel, 1, { ...defaultPumpOptions, ...options }, (error) => {
    throw error;
  });
  pump.start();
  return pump;
}

describe('the picture pump', () => {
  it('captures a change at once, even while the lossless refresh of an earlier photo is due only much later', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    screen.paint({ x: 0, y: 0, w: 256, h: 256 }, noise);
    await eventually(() => channel.sent.some((m) => m.kind === 'tile' && m.format === 'jpeg'), 'the photo, lossy');
    const before = channel.sent.length;
    screen.paint({ x: 320, y: 64, w: 64, h: 64 }, flat(200, 0, 0));
    const tile = await eventually(() => channel.sent.slice(before).find((m) => m.kind === 'tile' && m.x === 320 && m.y === 64), 'the change', 3000);
    expect(tile).toMatchObject({ format: 'webp', w: 64, h: 64 });
  });

  it('sends only the pixels a small change touched, but a whole tile where the console’s copy is lossy', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    let before = channel.sent.length;
    // A character's worth, straddling two tiles: one rectangle of just those pixels.
    screen.paint({ x: 58, y: 20, w: 12, h: 16 }, flat(0, 0, 0));
    const glyph = await eventually(() => channel.sent.slice(before).find((m) => m.kind === 'tile'), 'the character');
    expect(glyph).toMatchObject({ x: 58, y: 20, w: 12, h: 16, format: 'webp' });

    screen.paint({ x: 256, y: 128, w: 64, h: 64 }, noise);
    await eventually(() => channel.sent.some((m) => m.kind === 'tile' && m.format === 'jpeg'), 'the photo, lossy');
    before = channel.sent.length;
    screen.paint({ x: 260, y: 130, w: 4, h: 4 }, flat(0, 0, 0));
    const dot = await eventually(() => channel.sent.slice(before).find((m) => m.kind === 'tile'), 'the dot');
    expect(dot).toMatchObject({ x: 256, y: 128, w: 64, h: 64 });
  });

  it('captures nothing while the console is not reading, then sends the latest picture as one frame', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    const pump = start(screen, channel, { highWaterBytes: 64 * 1024 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    channel.reading = false;
    screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, noise);
    await eventually(() => channel.buffered > 64 * 1024 && channel.frameEnds() === 2, 'a frame the console does not read');
    const grabs = screen.grabs;
    const sent = channel.sent.length;
    for (let i = 0; i < 20; i++) {
      screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, flat(i * 10, 0, 0));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(screen.grabs).toBe(grabs);
    expect(channel.sent.length).toBe(sent);
    expect(pump.stats.heldBack).toBeGreaterThan(0);

    channel.drain();
    await eventually(() => channel.frameEnds() === 3, 'the frame after the console reads again');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(channel.frameEnds()).toBe(3);
    const tiles = channel.sent.slice(sent).filter((m) => m.kind === 'tile');
    expect(tiles.reduce((sum, t) => sum + t.w * t.h, 0)).toBe(WIDTH * HEIGHT);
    for (const t of tiles) {
      const { data } = await sharp(t.image).raw().toBuffer({ resolveWithObject: true });
      expect([...data.subarray(0, 3)]).toEqual([190, 0, 0]);
    }
  });
});
