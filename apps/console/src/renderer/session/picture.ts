import { inflateSync } from 'fflate';
import { CACHE_CELL, CACHE_SLOTS, cachedSlot, checkTile, decodePicture, insideDisplay, PictureAssembler, PictureError, rgbToRgba, type KeptCell, type PictureMessage, type Rect, type Tile } from '@roomlink/shared';

/** Chromium's breakout box, on the window in Chromium and Electron (TypeScript's DOM library has it in workers only). */
declare class MediaStreamTrackProcessor {
  constructor(init: { track: MediaStreamTrack; maxBufferSize?: number });
  readonly readable: ReadableStream<VideoFrame>;
}

/** A checked, decoded tile, ready to draw; image files decode off the main thread, fills and deflated pixels at once. */
type Drawable = (context: CanvasRenderingContext2D) => void;
type Decoded = Drawable | null | Promise<Drawable | null>;

export interface PictureStats {
  /** Frames drawn: tiles drawn together at a frame end. */
  frames: number;
  tiles: number;
  /** Tiles drawn from the tile cache. */
  cachedTiles: number;
  videoFrames: number;
  /** Messages and tiles refused (malformed, outside the display, lying about their size, undecodable), by reason. */
  dropped: Partial<Record<PictureError['reason'], number>>;
}

const mimeTypes = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;
/** The tile cache's slots sit in pages of this many cells a side (512 px, 1 MiB a page). */
const PAGE_CELLS = 8;
const PAGE_SLOTS = PAGE_CELLS * PAGE_CELLS;

/**
 * The tile cache: cells the room told us to keep, copied from the canvas
 * into offscreen pages, each allocated when the room first keeps a cell in
 * it (the room fills slots in order), and the size each slot holds (0 for
 * an empty slot). One 32 MiB canvas for all of them cost 120-200 ms at its
 * first draw in Chromium, on the first frame's path; a page costs a few ms.
 */
class TileAtlas {
  private readonly pages: OffscreenCanvasRenderingContext2D[] = [];
  private readonly sizes = new Uint32Array(CACHE_SLOTS);

  keep(from: HTMLCanvasElement, cell: KeptCell): void {
    const [page, x, y] = this.at(cell.slot);
    this.pages[page] ??= new OffscreenCanvas(PAGE_CELLS * CACHE_CELL, PAGE_CELLS * CACHE_CELL).getContext('2d', { alpha: false })!;
    this.pages[page].drawImage(from, cell.x, cell.y, cell.w, cell.h, x, y, cell.w, cell.h);
    this.sizes[cell.slot] = (cell.w << 16) | cell.h;
  }

  /** Draws a slot at `tile`, or returns false when the slot does not hold a cell of the tile's size. */
  draw(context: CanvasRenderingContext2D, slot: number, tile: Rect): boolean {
    if (this.sizes[slot] !== ((tile.w << 16) | tile.h)) return false;
    const [page, x, y] = this.at(slot);
    context.drawImage(this.pages[page]!.canvas, x, y, tile.w, tile.h, tile.x, tile.y, tile.w, tile.h);
    return true;
  }

  clear(): void {
    this.sizes.fill(0);
  }

  private at(slot: number): [number, number, number] {
    const cell = slot % PAGE_SLOTS;
    return [Math.floor(slot / PAGE_SLOTS), (cell % PAGE_CELLS) * CACHE_CELL, Math.floor(cell / PAGE_CELLS) * CACHE_CELL];
  }
}

/**
 * Draws the room's picture on a canvas: tiles from the picture channel,
 * drawn together at their frame's end, and the video track in the region
 * the room says is moving. Image files decode off the main thread
 * (`createImageBitmap`); a small change (fills and deflated pixels) is drawn
 * in the same task it arrives in, so a typed character reaches the screen
 * at the next paint. Everything is checked before it is decoded (see `checkTile`); a
 * bad message is dropped and counted, never drawn, never thrown.
 */
export class PictureReceiver {
  readonly stats: PictureStats = { frames: 0, tiles: 0, cachedTiles: 0, videoFrames: 0, dropped: {} };
  private readonly assembler = new PictureAssembler();
  private readonly context: CanvasRenderingContext2D;
  private display = { epoch: -1, width: 0, height: 0 };
  private region: Rect | null = null;
  private tiles: Decoded[] = [];
  private drawing: Promise<void> = Promise.resolve();
  private atlas: TileAtlas | null = null;
  /** Steps chained on `drawing` that have not run: while there are any, a new frame waits its turn. */
  private queued = 0;
  private closed = false;
  private videoReader: ReadableStreamDefaultReader<VideoFrame> | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onFrame: () => void = () => undefined,
  ) {
    this.context = canvas.getContext('2d', { alpha: false })!;
  }

  /**
   * Draws the room's video track into the moving region, each frame as it is
   * decoded, but never two between the page's paints: a frame decoded
   * before the last one drawn was painted waits for that paint (a 30 fps
   * track on a 60 Hz page often decodes two in one paint, and the first was
   * never seen). A hidden video element presented only 24 of the track's 29
   * frames a second here, for the same reason.
   */
  showVideo(track: MediaStreamTrack): void {
    void this.videoReader?.cancel();
    // The processor holds one frame by default and drops the older of two decoded before a read: room for those waiting for a paint, few enough that a backlog stays short.
    const frames = new MediaStreamTrackProcessor({ track, maxBufferSize: 3 }).readable.getReader();
    this.videoReader = frames;
    const next = (): void => {
      frames.read().then(({ value, done }) => {
        if (done) return;
        // A frame that cannot be drawn is counted, and the next one drawn: the video goes on.
        try {
          this.drawVideoFrame(value);
        } catch (error) {
          this.drop(error);
        } finally {
          value.close();
        }
        afterPaint(next);
      }, () => undefined);
    };
    next();
  }

  /** One data-channel message of the picture channel. */
  receive(fragment: ArrayBuffer): void {
    if (this.closed) return;
    try {
      const whole = this.assembler.push(new Uint8Array(fragment));
      if (whole) this.handle(decodePicture(whole));
    } catch (error) {
      this.drop(error);
    }
  }

  close(): void {
    this.closed = true;
    void this.videoReader?.cancel();
  }

  /** Which display picture is being drawn: it changes when the room starts sending another display. */
  get epoch(): number {
    return this.display.epoch;
  }

  private handle(message: PictureMessage): void {
    if (message.kind === 'display') {
      this.display = { epoch: message.epoch, width: message.width, height: message.height };
      this.tiles = [];
      this.after(() => {
        this.atlas?.clear();
        if (this.canvas.width === message.width && this.canvas.height === message.height) return;
        this.canvas.width = message.width;
        this.canvas.height = message.height;
      });
      return;
    }
    // Pictures of a display the technician has left.
    if (message.epoch !== this.display.epoch) return;
    if (message.kind === 'video') {
      this.after(() => {
        this.region = message.w ? { x: message.x, y: message.y, w: message.w, h: message.h } : null;
      });
      return;
    }
    if (message.kind === 'keep') {
      const cells = message.cells.filter((cell) => insideDisplay(cell, this.display) || this.drop(new PictureError('outside_display')));
      // After the frames before it are drawn: the cells hold what those frames put there.
      this.after(() => {
        this.atlas ??= new TileAtlas();
        for (const cell of cells) this.atlas.keep(this.canvas, cell);
      });
      return;
    }
    for (const tile of message.tiles) this.tiles.push(this.decode(tile));
    if (!message.last) return;
    const tiles = this.tiles;
    this.tiles = [];
    if (this.queued === 0 && tiles.every((tile) => !(tile instanceof Promise))) this.drawFrame(tiles as (Drawable | null)[]);
    else this.after(async () => this.drawFrame(await Promise.all(tiles)));
  }

  /** Runs `step` after everything drawn before it. */
  private after(step: () => void | Promise<void>): void {
    this.queued += 1;
    this.drawing = this.drawing.then(step).finally(() => (this.queued -= 1));
  }

  private drawFrame(tiles: (Drawable | null)[]): void {
    if (this.closed) return;
    for (const draw of tiles) {
      if (!draw) continue;
      draw(this.context);
      this.stats.tiles += 1;
    }
    this.stats.frames += 1;
    this.onFrame();
  }

  private decode(tile: Tile): Decoded {
    try {
      checkTile(tile, this.display);
      if (tile.format === 'fill') {
        const [r, g, b] = tile.image;
        return (context) => {
          context.fillStyle = `rgb(${r},${g},${b})`;
          context.fillRect(tile.x, tile.y, tile.w, tile.h);
        };
      }
      if (tile.format === 'zlib') return this.inflate(tile);
      if (tile.format === 'cached') return this.fromCache(tile);
      return this.decodeImage(tile, tile.format);
    } catch (error) {
      this.drop(error);
      return null;
    }
  }

  /** A cell the room told us to keep earlier; which one is known only when its frame is drawn, after the keeps before it. */
  private fromCache(tile: Tile): Drawable {
    const slot = cachedSlot(tile);
    return (context) => {
      if (this.atlas?.draw(context, slot, tile)) this.stats.cachedTiles += 1;
      else this.drop(new PictureError('cache_miss'));
    };
  }

  /** Deflated RGB rows, inflated into a buffer one byte longer than they may be: filling it means the tile lied about its size. */
  private inflate(tile: Tile): Drawable | null {
    const size = tile.w * tile.h * 3;
    let rgb: Uint8Array;
    try {
      rgb = inflateSync(tile.image, { out: new Uint8Array(size + 1) });
    } catch {
      throw new PictureError('undecodable');
    }
    if (rgb.byteLength !== size) throw new PictureError('size_mismatch');
    const image = new ImageData(tile.w, tile.h);
    rgbToRgba(rgb, image.data);
    return (context) => context.putImageData(image, tile.x, tile.y);
  }

  private async decodeImage(tile: Tile, format: keyof typeof mimeTypes): Promise<Drawable | null> {
    try {
      const bitmap = await createImageBitmap(new Blob([tile.image as Uint8Array<ArrayBuffer>], { type: mimeTypes[format] }));
      if (bitmap.width === tile.w && bitmap.height === tile.h) {
        return (context) => {
          context.drawImage(bitmap, tile.x, tile.y);
          bitmap.close();
        };
      }
      bitmap.close();
      this.drop(new PictureError('size_mismatch'));
    } catch {
      this.drop(new PictureError('undecodable'));
    }
    return null;
  }

  /**
   * A video frame goes into the moving region while there is one and the
   * frame is of it: its size, or that size scaled down (WebRTC lowers the
   * resolution of a moving region under load rather than its frame rate).
   * A frame of another shape belongs to an earlier region and is skipped.
   */
  private drawVideoFrame(frame: VideoFrame): void {
    const region = this.region;
    const { displayWidth: w, displayHeight: h } = frame;
    if (!region || w === 0 || h === 0 || w > region.w || Math.abs(w / h - region.w / region.h) >= 0.02) return;
    this.context.drawImage(frame, region.x, region.y, region.w, region.h);
    this.stats.videoFrames += 1;
  }

  private drop(error: unknown): false {
    const reason = error instanceof PictureError ? error.reason : 'malformed';
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    return false;
  }
}

/** Runs `step` once the page has painted what is drawn now: the paint follows the animation frame's callbacks, a task queued in them runs after it. */
function afterPaint(step: () => void): void {
  requestAnimationFrame(() => setTimeout(step, 0));
}
