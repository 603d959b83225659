import wrtc from '@roamhq/wrtc';
import { inflateRawSync } from 'node:zlib';
import type { PictureMessage, Rect, Tile } from '@roomlink/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Capture, Frame, Monitor } from '../src/core/platform';
import { defaultPumpOptions, PicturePump, type PictureOut, type PumpOptions } from '../src/core/picture/picture-pump';
import * as encoder from '../src/core/picture/tile-encoder';
import { unionRect } from '../src/core/picture/tile-grid';
import { eventually } from './support/viewer';

/**
 * The picture pump against a screen the test paints and a channel the test
 * controls: when it captures, what it sends, and what it does while the
 * console is not reading.
 */

const WIDTH = 512;
const HEIGHT = 256;
const monitor: Monitor = { id: 'M', name: 'M', primary: true, x: 0, y: 0, width: WIDTH, height: HEIGHT };

/** A screen the test paints; every paint is reported as damage, and a grab reads just what was painted since, as X DAMAGE would. */
class PaintedScreen implements Capture {
  /** B, G, R, X, as captured (see `Frame`). */
  readonly bgrx = new Uint8Array(WIDTH * HEIGHT * 4).fill(255);
  grabs = 0;
  private dirty: Rect | null = null;
  private changed: (() => void) | null = null;

  async grab(_monitor: Monitor, whole: boolean): Promise<Frame> {
    this.grabs += 1;
    const area = whole ? { x: 0, y: 0, w: WIDTH, h: HEIGHT } : this.dirty;
    this.dirty = null;
    const data = new Uint8Array((area?.w ?? 0) * (area?.h ?? 0) * 4);
    for (let row = 0; area && row < area.h; row++) {
      const start = ((area.y + row) * WIDTH + area.x) * 4;
      data.set(this.bgrx.subarray(start, start + area.w * 4), row * area.w * 4);
    }
    return { width: WIDTH, height: HEIGHT, area, data };
  }

  watch(_monitor: Monitor, changed: () => void): () => void {
    this.changed = changed;
    return () => (this.changed = null);
  }

  paint(rect: Rect, colour: (x: number, y: number) => [number, number, number]): void {
    for (let y = rect.y; y < rect.y + rect.h; y++) {
      for (let x = rect.x; x < rect.x + rect.w; x++) {
        const [r, g, b] = colour(x, y);
        this.bgrx.set([b, g, r, 0], (y * WIDTH + x) * 4);
      }
    }
    this.dirty = unionRect(this.dirty, rect);
    this.changed?.();
  }
}

/** What the pump sent, a tile at a time: each tile, then the end of its frame. */
type Sent = Exclude<PictureMessage, { kind: 'tiles' }> | ({ kind: 'tile'; message: number } & Tile) | { kind: 'frameEnd' };

/** A picture channel whose reader the test can stop: what is sent while stopped stays buffered. */
class Channel implements PictureOut {
  open = true;
  buffered = 0;
  reading = true;
  readonly sent: Sent[] = [];
  messages = 0;
  readonly video = new wrtc.nonstandard.RTCVideoSource();
  /** A LAN's, unless a test says otherwise. */
  roundTrip: number | null = 1;

  roundTripMs(): Promise<number | null> {
    return Promise.resolve(this.roundTrip);
  }

  sendPicture(message: PictureMessage): void {
    this.messages += 1;
    if (message.kind !== 'tiles') return void this.sent.push(message);
    for (const tile of message.tiles) {
      this.sent.push({ kind: 'tile', message: this.messages, ...tile });
      if (!this.reading) this.buffered += tile.image.byteLength;
    }
    if (message.last) this.sent.push({ kind: 'frameEnd' });
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
/** Text-like, and the same in every tile: cells to encode (not plain), all with one content. */
const pattern = (x: number, y: number): [number, number, number] => ((x + y) % 4 < 2 ? [40, 40, 40] : [240, 240, 240]);
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
    expect(tile).toMatchObject({ format: 'fill', w: 64, h: 64, image: new Uint8Array([200, 0, 0]) });
  });

  it('refreshes a photo that stopped moving losslessly in pieces of at most 16 tiles, all of it', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    start(screen, channel, { refineAfterMs: 100 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, noise);
    await eventually(() => channel.frameEnds() === 2, 'the photo, lossy');
    const before = channel.sent.length;
    await eventually(() => channel.frameEnds() === 3, 'the refresh');
    const refresh = channel.sent.slice(before).filter((m) => m.kind === 'tile');
    expect(refresh.map((t) => t.format)).toEqual(['webp', 'webp']);
    expect(refresh.map(({ x, y, w, h }) => ({ x, y, w, h }))).toEqual([
      { x: 0, y: 0, w: 256, h: 256 },
      { x: 256, y: 0, w: 256, h: 256 },
    ]);
  });

  it('sends only the pixels a small change touched, but a whole tile where the console’s copy is lossy', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    let before = channel.sent.length;
    // A character's worth, straddling two tiles: one rectangle of just those pixels.
    screen.paint({ x: 58, y: 20, w: 12, h: 16 }, (x, y) => ((x + y) % 3 ? [0, 0, 0] : [250, 250, 250]));
    const glyph = await eventually(() => channel.sent.slice(before).find((m) => m.kind === 'tile'), 'the character');
    expect(glyph).toMatchObject({ x: 58, y: 20, w: 12, h: 16, format: 'zlib' });
    // Deflated RGB rows: exactly the painted pixels.
    const rgb = inflateRawSync((glyph as Tile).image);
    expect(rgb.byteLength).toBe(12 * 16 * 3);
    expect([...rgb.subarray(0, 6)]).toEqual([250, 250, 250, 0, 0, 0]);

    screen.paint({ x: 256, y: 128, w: 64, h: 64 }, noise);
    await eventually(() => channel.sent.some((m) => m.kind === 'tile' && m.format === 'jpeg'), 'the photo, lossy');
    before = channel.sent.length;
    screen.paint({ x: 260, y: 130, w: 4, h: 4 }, flat(0, 0, 0));
    const dot = await eventually(() => channel.sent.slice(before).find((m) => m.kind === 'tile'), 'the dot');
    expect(dot).toMatchObject({ x: 256, y: 128, w: 64, h: 64 });
  });

  it('sends a typed character and its caret, far apart, as two small tiles in one message', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    const before = channel.sent.length;
    screen.paint({ x: 10, y: 10, w: 30, h: 30 }, flat(240, 200, 0));
    screen.paint({ x: 200, y: 70, w: 8, h: 14 }, (x, y) => ((x * y) % 4 ? [0, 0, 0] : [220, 220, 220]));
    await eventually(() => channel.frameEnds() === 2, 'the change');
    const tiles = channel.sent.slice(before).filter((m) => m.kind === 'tile');
    expect(tiles.map(({ x, y, w, h, format }) => ({ x, y, w, h, format }))).toEqual([
      { x: 10, y: 10, w: 30, h: 30, format: 'fill' },
      { x: 200, y: 70, w: 8, h: 14, format: 'zlib' },
    ]);
    expect(new Set(tiles.map((t) => t.message)).size).toBe(1);
  });

  it('draws a screen seen before from the console’s tile cache: slot numbers, not pixels', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    const pump = start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    const whole = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
    // Two windows of text-like pixels: two colours a tile, the dark one different in every tile of either window.
    const window = (seed: number) => (x: number, y: number) => ((x + y) % 4 < 2 ? [Math.floor(x / 64) * 16, Math.floor(y / 64) * 16, seed * 100] : [240, 240, 240]) as [number, number, number];
    screen.paint(whole, window(0));
    await eventually(() => channel.frameEnds() === 2, 'window A');
    screen.paint(whole, window(3));
    await eventually(() => channel.frameEnds() === 3, 'window B');
    // The first picture, a plain white screen, went as a fill and kept nothing.
    const keeps = channel.sent.filter((m) => m.kind === 'keep');
    // Each window's 32 cells were kept once sent exactly, after their frame.
    expect(keeps.length).toBe(2);
    const slots = keeps.flatMap((m) => m.cells.map((c) => c.slot));
    expect(new Set(slots).size).toBe(slots.length);
    const cellsOf = (m: Extract<Sent, { kind: 'keep' }>) => m.cells.reduce((sum, c) => sum + c.w * c.h, 0);
    expect(keeps.map(cellsOf)).toEqual([WIDTH * HEIGHT, WIDTH * HEIGHT]);
    expect(channel.sent[channel.sent.indexOf(keeps[0]!) - 1]).toEqual({ kind: 'frameEnd' });

    const before = channel.sent.length;
    screen.paint(whole, window(0));
    await eventually(() => channel.frameEnds() === 4, 'window A again');
    const again = channel.sent.slice(before).filter((m) => m.kind === 'tile');
    expect(again.every((t) => t.format === 'cached')).toBe(true);
    expect(again.reduce((sum, t) => sum + t.w * t.h, 0)).toBe(WIDTH * HEIGHT);
    // Each cell drawn from the slot that kept the same cell of window A.
    const keptA = new Map(keeps[0]!.cells.map((c) => [`${c.x},${c.y}`, c.slot]));
    for (const tile of again) expect(tile.image[0]! | (tile.image[1]! << 8)).toBe(keptA.get(`${tile.x},${tile.y}`));
    expect(again.reduce((sum, t) => sum + t.image.byteLength, 0)).toBe(2 * again.length);
    expect(pump.stats.cachedTiles).toBe(again.length);

    // A photo goes lossy and is not kept: the console's copy is not the room's pixels.
    const sentBefore = channel.sent.length;
    screen.paint({ x: 0, y: 0, w: 128, h: 128 }, noise);
    await eventually(() => channel.frameEnds() === 5, 'the photo');
    expect(channel.sent.slice(sentBefore).some((m) => m.kind === 'tile' && m.format === 'jpeg')).toBe(true);
    expect(channel.sent.slice(sentBefore).some((m) => m.kind === 'keep')).toBe(false);
  });

  it('keeps the first picture, prepared while the link came up, except a cell changed since that the console gets patched', async () => {
    const screen = new PaintedScreen();
    screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, pattern);
    const channel = new Channel();
    channel.open = false;
    const pump = start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => screen.grabs === 1, 'the first picture, prepared');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A character typed in the top left cell before the link is up: it travels as its own few pixels, on top of the prepared white cell.
    screen.paint({ x: 10, y: 10, w: 8, h: 12 }, (x, y) => ((x + y) % 3 ? [0, 0, 0] : [250, 250, 250]));
    await eventually(() => screen.grabs === 2, 'the character');
    channel.open = true;
    pump.opened();
    await eventually(() => channel.sent.some((m) => m.kind === 'keep'), 'the first picture, kept');
    const tiles = channel.sent.filter((m) => m.kind === 'tile');
    expect(tiles.some((t) => t.x === 10 && t.y === 10 && t.w === 8 && t.h === 12)).toBe(true);
    const keep = channel.sent.find((m) => m.kind === 'keep')!;
    // Every cell holds the same pattern as prepared; one of them holds it, and never the one the console shows with the character on it.
    expect(keep.kind === 'keep' && keep.cells).toEqual([{ x: 64, y: 0, w: 64, h: 64, slot: 0 }]);
  });

  it('sends the first picture as prepared (fast PNG) on a LAN, and as compact WebP on a slower link or one it cannot time; its plain cells as fills either way', async () => {
    const formats: Record<string, string[]> = {};
    for (const [link, roundTrip] of [['lan', 1], ['wan', 40], ['unknown', null]] as const) {
      const screen = new PaintedScreen();
      // Text-like on the left (two colours in a pattern, neither one fill nor photographic), a plain background on the right.
      screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, (x, y) => (x < 200 && (x * 7 + y * 3) % 11 < 3 ? [20, 20, 20] : [240, 240, 240]));
      const channel = new Channel();
      channel.open = false;
      channel.roundTrip = roundTrip;
      const pump = start(screen, channel);
      await eventually(() => screen.grabs === 1, 'the first picture, prepared');
      channel.open = true;
      pump.opened();
      await eventually(() => channel.frameEnds() === 1, 'the first picture, sent');
      const tiles = channel.sent.filter((m) => m.kind === 'tile');
      formats[link] = [...new Set(tiles.map((t) => t.format))].sort();
      // The whole screen either way; the plain cells right of the text as one fill.
      expect(tiles.reduce((area, t) => area + t.w * t.h, 0)).toBe(WIDTH * HEIGHT);
      expect(tiles.filter((t) => t.format === 'fill').map(({ x, y, w, h }) => ({ x, y, w, h }))).toEqual([{ x: 256, y: 0, w: 256, h: 256 }]);
      pump.stop();
    }
    expect(formats).toEqual({ lan: ['fill', 'png'], wan: ['fill', 'webp'], unknown: ['fill', 'webp'] });
  });

  it('reports a first picture that fails to encode as the one error it is, leaving no failure unhandled behind it', async () => {
    vi.spyOn(encoder, 'encodeTile').mockImplementationOnce(() => {
      throw new Error('the encoder broke');
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const screen = new PaintedScreen();
      screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, pattern);
      const channel = new Channel();
      channel.open = false;
      const errors: string[] = [];
      pump = new PicturePump(screen, monitor, channel, 1, defaultPumpOptions, (error) => errors.push(error.message));
      pump.start();
      await eventually(() => screen.grabs === 1, 'the first picture, prepared');
      channel.open = true;
      pump.opened();
      await eventually(() => errors.length > 0, 'the failure, reported');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toEqual(['the encoder broke']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      vi.restoreAllMocks();
    }
  });

  it('empties the tile cache with every whole new picture: after a refresh, nothing is drawn from it', async () => {
    const screen = new PaintedScreen();
    const channel = new Channel();
    const pump = start(screen, channel, { refineAfterMs: 60_000 });
    await eventually(() => channel.frameEnds() === 1, 'the first picture');
    const text = (x: number, y: number) => ((x + 2 * y) % 5 < 2 ? [Math.floor(x / 64) * 16, Math.floor(y / 64) * 16, 90] : [255, 255, 255]) as [number, number, number];
    screen.paint({ x: 0, y: 0, w: WIDTH, h: HEIGHT }, text);
    await eventually(() => channel.frameEnds() === 2 && channel.sent.at(-1)?.kind === 'keep', 'the window, kept');
    const before = channel.sent.length;
    pump.refresh();
    await eventually(() => channel.frameEnds() === 3, 'the refresh');
    const sent = channel.sent.slice(before);
    expect(sent[0]).toMatchObject({ kind: 'display' });
    expect(sent.filter((m) => m.kind === 'tile').some((t) => t.format === 'cached')).toBe(false);
    expect(sent.filter((m) => m.kind === 'tile').reduce((sum, t) => sum + t.w * t.h, 0)).toBe(WIDTH * HEIGHT);
    // Kept again, from slot 0: the room starts over as the console does.
    const keep = sent.find((m) => m.kind === 'keep');
    expect(keep?.kind === 'keep' && Math.min(...keep.cells.map((c) => c.slot))).toBe(0);
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
    expect(tiles.map((t) => ({ format: t.format, colour: [...t.image] }))).toEqual([{ format: 'fill', colour: [190, 0, 0] }]);
  });
});
