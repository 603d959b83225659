import { setImmediate as nextTurn } from 'node:timers/promises';
import wrtc from '@roamhq/wrtc';
import { slotImage, type KeptCell, type PictureMessage, type Rect } from '@roomlink/shared';
import type { Capture, Monitor } from '../platform';
import { defaultMotionOptions, MotionTracker, type MotionOptions } from './motion';
import { cellHashes, TileCache, type CellPixels } from './tile-cache';
import { cropRgba, encodeTile, solidColour, type EncodedTile } from './tile-encoder';
import { diffInto, JOIN_GAP, joinNear, pieces, REFRESH_PIECE_TILES, TileGrid } from './tile-grid';

type VideoSource = InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;

/** Where the pump's pictures go: the session's picture channel and video track. */
export interface PictureOut {
  /** Whether the picture channel is open; until it is, the pump prepares the first picture. */
  readonly open: boolean;
  /** Bytes queued on the picture channel that the network has not taken yet. */
  readonly buffered: number;
  sendPicture(message: PictureMessage): void;
  readonly video: VideoSource;
  /** The link's round trip in ms, null when not known. */
  roundTripMs(): Promise<number | null>;
}

export interface PumpOptions {
  /**
   * Video frames per second in a moving region, and captures per second
   * while it moves. A little above 30: an app's 30 fps runs on its own clock
   * (the bench's target app drew 30.45 a second), and a cap of exactly 30
   * skipped 0.3 of its frames a second; at 32 none, and a 60 fps source
   * still costs half its frames' work.
   */
  maxFps: number;
  /** How often a platform without change hints is polled. */
  pollMs: number;
  /**
   * While more than this waits on the picture channel, nothing new is
   * captured: changes pile up as damage and leave as one coalesced frame
   * when the channel drains (bounded memory, never a queue of stale frames).
   */
  highWaterBytes: number;
  /** How long a lossy tile must stay unchanged before it is sent again losslessly. */
  refineAfterMs: number;
  /**
   * The first picture is prepared as fast PNG while the link comes up, and
   * sent so if the link's round trip is at most this (a LAN, where its
   * extra bytes take a few ms); on a slower link its cells go as WebP.
   * Measured with the session bench's first frame on this machine (two cores):
   * a median of 291-309 ms with fast PNG against 358-373 ms with WebP.
   */
  lanRoundTripMs: number;
  motion: MotionOptions;
}

export const defaultPumpOptions: PumpOptions = { maxFps: 32, pollMs: 500, highWaterBytes: 1024 * 1024, refineAfterMs: 300, lanRoundTripMs: 5, motion: defaultMotionOptions };

/** Lossless refreshes per frame: enough to sharpen a quarter screen at once, little enough that a key never waits long behind them. */
const REFINE_TILES_PER_FRAME = 64;
/** Tiles ready at once travel together up to this many bytes, so a small change is one message on the wire. */
const BATCH_BYTES = 32 * 1024;
const RETRY_MS = 5;
/** Video frames that may go back to back after a pause (see `videoWait`). */
const VIDEO_BURST = 2;
const LATENCY_SAMPLES = 2000;

export interface PumpStats {
  captured: number;
  /** Picture frames sent: tiles drawn together, a video region start or end. */
  frames: number;
  tiles: number;
  tileBytes: number;
  /** Tiles sent lossy (photographic regions), and the lossless refreshes that followed. */
  lossyTiles: number;
  refinedTiles: number;
  /** Tiles drawn from the console's tile cache instead of being encoded. */
  cachedTiles: number;
  videoFrames: number;
  /** Times a capture waited because the channel was still busy with earlier pictures. */
  heldBack: number;
  /** Capture start to the frame's last byte handed to the channel, for recent frames. */
  latenciesMs: number[];
  firstFrameAt: number | null;
}

/**
 * One display's picture, from capture to the console: woken by the
 * platform's damage hints, it compares what was drawn with what the console
 * already has, tile by tile, and sends only the tiles that differ — text and
 * UI losslessly, photographic regions as JPEG that is sent again losslessly
 * once it has been still for `refineAfterMs`. A region in sustained motion
 * travels on the video track instead, and is sent losslessly once it stops.
 * A still screen costs nothing: no capture, no encode, no bytes.
 */
export class PicturePump {
  readonly stats: PumpStats = { captured: 0, frames: 0, tiles: 0, tileBytes: 0, lossyTiles: 0, refinedTiles: 0, cachedTiles: 0, videoFrames: 0, heldBack: 0, latenciesMs: [], firstFrameAt: null };
  private dirty = true;
  private busy = false;
  private stopped = false;
  private timer: { cancel(): void } | undefined;
  private timerDue = 0;
  private poller: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | null = null;
  /** The display's pixels as last captured: what the console has, or is about to get. */
  private reference: Uint8Array | null = null;
  private width = 0;
  private height = 0;
  /** Tiles that changed and have not been sent. */
  private pending = new TileGrid(0, 0);
  /** For pending tiles where only a few pixels changed (a typed character), boxes around them; a pending tile without any goes whole. */
  private pendingBounds = new Map<number, Rect[]>();
  /** Tiles that must go losslessly with the next frame (a video region that ended, due refreshes). */
  private exactNow = new TileGrid(0, 0);
  /** Tiles the console shows lossy, with when each last changed. */
  private lossy = new TileGrid(0, 0);
  private lossyAt = new Float64Array(0);
  private motion: MotionTracker | null = null;
  /**
   * The video region's frame, as RGBA and as I420: 1.3 MB a frame of a
   * 640x360 region, which at 32 frames a second made V8 collect its whole
   * heap every second or two when each frame had new ones.
   */
  private videoBuffers: { rgba: Uint8Array; i420: Uint8Array } | null = null;
  private region: Rect | null = null;
  private regionChanged = false;
  /** Video frames the pump may send now (see `videoWait`), and when that was counted. */
  private videoCredit = VIDEO_BURST;
  private videoCreditAt = 0;
  private frame = 0;
  private displaySent = false;
  /** The first picture, encoded while the link comes up. */
  private prepared: (EncodedTile | Promise<EncodedTile>)[] | null = null;
  /** What the console's tile cache holds. */
  private readonly cache = new TileCache();
  /** This frame's cells that go whole and are not cached yet, by tile index, with their hashes: kept once sent exactly. */
  private readonly contents = new Map<number, { pixels: CellPixels; hash: number }>();
  /**
   * The prepared first picture's cells. Their pixels are the reference's: a
   * cell changed since it was prepared is sent again in the same frame, so
   * the others still hold what was prepared (no 8 MB copy of the screen).
   */
  private preparedCells: number[] | null = null;

  constructor(
    private readonly capture: Capture,
    private readonly monitor: Monitor,
    private readonly out: PictureOut,
    private readonly epoch: number,
    private readonly options: PumpOptions = defaultPumpOptions,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  start(): void {
    this.unwatch = this.capture.watch(this.monitor, () => this.changed());
    if (!this.unwatch) this.poller = setInterval(() => this.changed(), this.options.pollMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    clearInterval(this.poller);
    this.unwatch?.();
  }

  /** The picture channel has opened: send what was prepared and carry on. */
  opened(): void {
    this.schedule(0);
  }

  /** The console asked for the whole picture again (it lost it, or has just reconnected). */
  refresh(): void {
    this.displaySent = false;
    this.pending.markAll();
    this.pendingBounds.clear();
    this.schedule(0);
  }

  /** A key reached the display: the repaint that answers it is typing, not motion. */
  input(): void {
    this.motion?.input(performance.now());
  }

  private changed(): void {
    this.dirty = true;
    this.schedule();
  }

  private schedule(delay?: number): void {
    if (this.busy || this.stopped) return;
    const unsent = this.out.open && (this.prepared !== null || !this.displaySent);
    const work = this.dirty || unsent || this.pending.any || this.exactNow.any;
    const refineIn = this.nextRefineIn() ?? Infinity;
    // A still screen sends no damage: the end of motion is noticed by looking.
    const stillCheck = this.region ? this.options.motion.stillMs / 4 : Infinity;
    if (!work && refineIn === Infinity && stillCheck === Infinity) return;
    const wait = delay ?? (work ? (this.region ? this.videoWait(performance.now()) : 0) : Math.min(refineIn, stillCheck));
    const due = performance.now() + wait;
    // A change must not wait behind a later refresh or still check that is already set.
    if (this.timer) {
      if (due >= this.timerDue) return;
      this.timer.cancel();
    }
    this.timerDue = due;
    const run = () => {
      this.timer = undefined;
      void this.tick();
    };
    // Now means after the events already read: the rest of an app's repaint (it draws in several requests) arrives with the first damage.
    if (wait <= 0) {
      const immediate = setImmediate(run);
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(run, wait);
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  private async tick(): Promise<void> {
    this.busy = true;
    try {
      if (this.out.open && this.out.buffered > this.options.highWaterBytes) {
        this.stats.heldBack += 1;
        this.busy = false;
        return this.schedule(RETRY_MS);
      }
      const started = performance.now();
      if (this.dirty) await this.grab();
      else if (this.region) this.observeMotion(new TileGrid(this.width, this.height));
      if (this.stopped) return;
      if (!this.out.open) return this.prepare();
      await this.send(started);
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  private async grab(): Promise<void> {
    this.dirty = false;
    const frame = await this.capture.grab(this.monitor, this.reference === null);
    if (this.stopped || !frame.area) return;
    this.stats.captured += 1;
    if (!this.reference || frame.width !== this.width || frame.height !== this.height) {
      const { area } = frame;
      // A display that changed size needs a whole picture before anything can be compared with it.
      if (area.x !== 0 || area.y !== 0 || area.w !== frame.width || area.h !== frame.height) {
        this.reference = null;
        this.dirty = true;
        return;
      }
      this.resize(frame.width, frame.height);
      this.reference = new Uint8Array(frame.data.subarray(0, frame.width * frame.height * 4));
      this.pending.markAll();
      this.pendingBounds.clear();
    } else {
      const changed = new TileGrid(this.width, this.height);
      const bounds = diffInto(changed, this.reference, frame.data, frame.area);
      this.addPending(changed, bounds);
      this.observeMotion(changed);
    }
  }

  /** Adds a frame's changed tiles to what waits; a tile stays exact-bounded only while every change to it was. */
  private addPending(changed: TileGrid, bounds: Map<number, Rect[]> | null): void {
    changed.marks.forEach((mark, index) => {
      if (!mark) return;
      const boxes = bounds?.get(index);
      const waiting = this.pending.marks[index] === 1;
      const before = this.pendingBounds.get(index);
      if (boxes && (!waiting || before)) this.pendingBounds.set(index, [...(before ?? []), ...boxes]);
      else this.pendingBounds.delete(index);
    });
    this.pending.add(changed);
  }

  private resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.pending = new TileGrid(width, height);
    this.exactNow = new TileGrid(width, height);
    this.lossy = new TileGrid(width, height);
    this.lossyAt = new Float64Array(this.lossy.marks.length);
    this.motion = new MotionTracker({ width, height }, this.options.motion);
    this.region = null;
    this.displaySent = false;
    this.prepared = null;
    this.preparedCells = null;
  }

  private observeMotion(changed: TileGrid): void {
    const region = this.motion!.observe(changed.bounds(), changed.count, performance.now());
    if (region === this.region) return;
    // The area the video covered is sent again exactly: the console shows a lossy video frame there.
    if (this.region) this.exactNow.mark(this.region);
    this.region = region;
    this.regionChanged = true;
  }

  /** Before the link is up: encode the first picture, so it leaves the moment the link is. */
  private prepare(): void {
    if (this.prepared || !this.reference) return;
    const pixels = this.reference;
    const width = this.width;
    const fills = this.cutSolid(this.pending);
    // A whole screen's crops take tens of ms of this thread: one rectangle a turn, so the console's answer and the link's events are not held behind them.
    this.prepared = [...fills, ...spread([...this.pending.rects()], (rect) => encodeTile(pixels, width, rect, false, 'fast'))];
    const indices: number[] = [];
    this.pending.marks.forEach((mark, index) => mark && indices.push(index));
    this.preparedCells = indices;
    this.pending.clear();
    this.pendingBounds.clear();
  }

  private async send(started: number): Promise<void> {
    if (this.prepared && !(await this.onLan())) this.unprepare();
    const reference = this.reference;
    if (!reference) return;
    const frame = ++this.frame;
    if (!this.displaySent) {
      this.out.sendPicture({ kind: 'display', epoch: this.epoch, width: this.width, height: this.height });
      this.displaySent = true;
      this.cache.clear();
      if (this.region) this.regionChanged = true;
    }
    if (this.regionChanged) {
      this.out.sendPicture({ kind: 'video', epoch: this.epoch, frame, ...(this.region ?? { x: 0, y: 0, w: 0, h: 0 }) });
      this.regionChanged = false;
      if (this.region) this.feedVideo(reference, this.region, started);
    } else if (this.region && this.pending.touches(this.region)) {
      this.feedVideo(reference, this.region, started);
    }
    if (this.region) {
      this.pending.unmark(this.region);
      this.exactNow.unmark(this.region);
      this.lossy.mark(this.region);
    }
    if (!this.pending.any && !this.exactNow.any) this.addDueRefreshes();
    for (let i = 0; i < this.exactNow.marks.length; i++) if (this.exactNow.marks[i]) this.pending.marks[i] = 0;
    this.contents.clear();
    if (this.preparedCells) this.keepPrepared(this.preparedCells);
    const fills = [...this.cutSolid(this.pending), ...this.cutSolid(this.exactNow)];
    const cached = [...this.fromCache(this.pending, this.pendingBounds), ...this.fromCache(this.exactNow)];
    const encoding = [...(this.prepared ?? []), ...fills, ...cached, ...this.encode(this.pending, false, this.pendingBounds), ...this.encode(this.exactNow, true)];
    this.prepared = null;
    this.pending.clear();
    this.pendingBounds.clear();
    this.exactNow.clear();
    if (encoding.length === 0) return;
    let batch: EncodedTile[] = [];
    let batchBytes = 0;
    const kept: KeptCell[] = [];
    for (let i = 0; i < encoding.length; i++) {
      const tile = await encoding[i]!;
      if (this.stopped) return;
      batch.push(tile);
      batchBytes += tile.image.byteLength;
      this.account(tile);
      if (tile.exact) this.keepCells(tile, kept);
      const next = encoding[i + 1];
      // Tiles encoded at once join the message; one still encoding does not hold back those ready.
      if (next === undefined || next instanceof Promise || batchBytes >= BATCH_BYTES) {
        this.out.sendPicture({ kind: 'tiles', epoch: this.epoch, frame, last: next === undefined, tiles: batch.map(({ exact: _exact, ...sent }) => sent) });
        batch = [];
        batchBytes = 0;
      }
    }
    if (kept.length > 0) this.out.sendPicture({ kind: 'keep', epoch: this.epoch, frame, cells: kept });
    this.stats.frames += 1;
    this.stats.firstFrameAt ??= Date.now();
    if (this.stats.latenciesMs.push(performance.now() - started) > LATENCY_SAMPLES) this.stats.latenciesMs.shift();
  }

  /**
   * Encodes the marked tiles as rectangles. Where every tile of a rectangle
   * has exact bounds and the console shows it exactly, only the changed
   * pixels go, as boxes joined where they nearly touch: a typed character
   * and its caret cost their own few hundred pixels, not whole tiles or the
   * line between them. A tile the console shows lossy goes whole, so that
   * the lossless refresh that follows covers all of it.
   */
  private encode(grid: TileGrid, exact: boolean, bounds?: Map<number, Rect[]>): (EncodedTile | Promise<EncodedTile>)[] {
    const whole: Rect[] = [];
    const changed: Rect[] = [];
    for (const rect of grid.rects()) {
      const boxes = bounds ? grid.indices(rect).map((index) => (this.lossy.marks[index] ? undefined : bounds.get(index))) : [];
      if (boxes.length > 0 && boxes.every((box) => box !== undefined)) changed.push(...(boxes as Rect[][]).flat());
      else whole.push(rect);
    }
    const wholePieces = exact ? whole.flatMap((rect) => pieces(rect, REFRESH_PIECE_TILES)) : whole;
    return [...joinNear(changed, JOIN_GAP), ...wholePieces].map((rect) => encodeTile(this.reference!, this.width, rect, exact));
  }

  private async onLan(): Promise<boolean> {
    const roundTrip = await this.out.roundTripMs();
    return roundTrip !== null && roundTrip <= this.options.lanRoundTripMs;
  }

  /** The prepared picture is too large for the link: its cells are encoded again, compact, with the rest of the frame. */
  private unprepare(): void {
    for (const index of this.preparedCells ?? []) this.pending.marks[index] = 1;
    // Its fills are as small on any link.
    this.prepared = this.prepared?.filter((tile) => !(tile instanceof Promise) && tile.format === 'fill') ?? null;
    this.preparedCells = null;
  }

  /** A prepared cell is kept as prepared unless this frame draws it again. */
  private keepPrepared(indices: number[]): void {
    this.preparedCells = null;
    const unchanged = new TileGrid(this.width, this.height);
    for (const index of indices) if (!this.pending.marks[index] && !this.exactNow.marks[index] && !this.videoTouches(index)) unchanged.marks[index] = 1;
    this.noteContents(unchanged, this.words());
  }

  /**
   * Unmarks the marked cells of one colour and returns them as fills, joined
   * as `TileGrid.rects` joins cells: a plain background is a few bytes and
   * no encode, and what is left to encode shrinks. On a 1080p log screen 272
   * of 510 cells are plain: its lossless WebP took 26 ms instead of 81, and
   * 39 KB instead of 44.
   */
  private cutSolid(grid: TileGrid): EncodedTile[] {
    const byColour = new Map<number, { colour: Uint8Array; cells: TileGrid }>();
    grid.marks.forEach((mark, index) => {
      const colour = mark ? solidColour(this.reference!, this.width, this.cell(index)) : null;
      if (!colour) return;
      grid.marks[index] = 0;
      const key = (colour[0]! << 16) | (colour[1]! << 8) | colour[2]!;
      let plain = byColour.get(key);
      if (!plain) byColour.set(key, (plain = { colour, cells: new TileGrid(this.width, this.height) }));
      plain.cells.marks[index] = 1;
    });
    return [...byColour.values()].flatMap(({ colour, cells }) => cells.rects().map((rect): EncodedTile => ({ ...rect, format: 'fill', image: colour, exact: true })));
  }

  /**
   * The marked cells that go whole and whose content the console's cache
   * holds, as cached tiles (unmarked: nothing to encode); the others'
   * contents are noted so that they are kept once sent exactly.
   */
  private fromCache(grid: TileGrid, bounds?: Map<number, Rect[]>): EncodedTile[] {
    const whole = new TileGrid(this.width, this.height);
    grid.marks.forEach((mark, index) => (whole.marks[index] = mark && !bounds?.has(index) ? 1 : 0));
    const tiles: EncodedTile[] = [];
    for (const [index, content] of this.noteContents(whole, this.words())) {
      const slot = this.cache.find(content.pixels, content.hash);
      if (slot === undefined) continue;
      this.contents.delete(index);
      grid.marks[index] = 0;
      tiles.push({ ...this.cell(index), format: 'cached', image: slotImage(slot), exact: true });
    }
    return tiles;
  }

  /** Notes the pixels and hash of every marked cell of `grid` as this frame's content there, and returns them. */
  private noteContents(grid: TileGrid, words: Uint32Array): Map<number, { pixels: CellPixels; hash: number }> {
    const hashes = cellHashes(words, grid);
    const noted = new Map<number, { pixels: CellPixels; hash: number }>();
    grid.marks.forEach((mark, index) => {
      if (!mark) return;
      const content = { pixels: { words, width: this.width, cell: this.cell(index) }, hash: hashes[index]! };
      this.contents.set(index, content);
      noted.set(index, content);
    });
    return noted;
  }

  private cell(index: number): Rect {
    return this.lossy.tileRect(index % this.lossy.cols, Math.floor(index / this.lossy.cols));
  }

  private words(): Uint32Array {
    return new Uint32Array(this.reference!.buffer, this.reference!.byteOffset, this.reference!.byteLength / 4);
  }

  /** Cells wholly inside a tile the console now shows exactly go into its cache (after the frame is drawn). */
  private keepCells(tile: EncodedTile, kept: KeptCell[]): void {
    if (tile.format === 'cached') return;
    for (const index of this.lossy.indices(tile)) {
      const content = this.contents.get(index);
      if (content === undefined) continue;
      const { cell } = content.pixels;
      if (cell.x < tile.x || cell.y < tile.y || cell.x + cell.w > tile.x + tile.w || cell.y + cell.h > tile.y + tile.h) continue;
      // The same content twice in one frame (a repeated pattern) is kept once; plain cells never get here (see `cutSolid`).
      if (this.cache.find(content.pixels, content.hash) === undefined) kept.push({ ...cell, slot: this.cache.keep(content.pixels, content.hash) });
    }
  }

  private account(tile: EncodedTile): void {
    if (tile.format === 'cached') this.stats.cachedTiles += 1;
    this.stats.tiles += 1;
    this.stats.tileBytes += tile.image.byteLength;
    if (tile.exact) {
      if (this.lossy.touches(tile)) this.stats.refinedTiles += 1;
      this.lossy.unmark(tile);
      return;
    }
    this.stats.lossyTiles += 1;
    this.lossy.mark(tile);
    const now = performance.now();
    for (const i of this.lossy.indices(tile)) this.lossyAt[i] = now;
  }

  /** Milliseconds until the oldest lossy tile outside the video region is due for its lossless refresh, or null. */
  private nextRefineIn(): number | null {
    let oldest = Infinity;
    for (let i = 0; i < this.lossy.marks.length; i++) if (this.lossy.marks[i] && !this.inRegion(i)) oldest = Math.min(oldest, this.lossyAt[i]!);
    return oldest === Infinity ? null : Math.max(0, oldest + this.options.refineAfterMs - performance.now());
  }

  private addDueRefreshes(): void {
    const due = performance.now() - this.options.refineAfterMs;
    let taken = 0;
    for (let i = 0; i < this.lossy.marks.length && taken < REFINE_TILES_PER_FRAME; i++) {
      if (!this.lossy.marks[i] || this.lossyAt[i]! > due || this.inRegion(i)) continue;
      this.exactNow.marks[i] = 1;
      taken += 1;
    }
  }

  private videoTouches(index: number): boolean {
    const cell = this.cell(index);
    const region = this.region;
    return region !== null && cell.x < region.x + region.w && region.x < cell.x + cell.w && cell.y < region.y + region.h && region.y < cell.y + cell.h;
  }

  private inRegion(index: number): boolean {
    if (!this.region) return false;
    const r = this.lossy.tileRect(index % this.lossy.cols, Math.floor(index / this.lossy.cols));
    return r.x >= this.region.x && r.y >= this.region.y && r.x < this.region.x + this.region.w && r.y < this.region.y + this.region.h;
  }

  /**
   * Milliseconds until the video may take another frame: `maxFps` frames a
   * second on average, counted from each capture's start (not the end of
   * its work), with a burst of VIDEO_BURST, so an app drawing at exactly
   * that rate has every frame taken the moment it lands instead of
   * half of them falling between two evenly paced grabs.
   */
  private videoWait(now: number): number {
    if (now > this.videoCreditAt) {
      this.videoCredit = Math.min(VIDEO_BURST, this.videoCredit + ((now - this.videoCreditAt) * this.options.maxFps) / 1000);
      this.videoCreditAt = now;
    }
    return this.videoCredit >= 1 ? 0 : ((1 - this.videoCredit) * 1000) / this.options.maxFps;
  }

  /** `grabbedAt`: when this frame's capture began. */
  private feedVideo(reference: Uint8Array, region: Rect, grabbedAt: number): void {
    const size = region.w * region.h;
    // wrtc copies a frame into a buffer of its own, so the region's two buffers serve every frame of it.
    if (this.videoBuffers?.rgba.byteLength !== size * 4) this.videoBuffers = { rgba: new Uint8Array(size * 4), i420: new Uint8Array((size * 3) / 2) };
    const { rgba, i420 } = this.videoBuffers;
    cropRgba(reference, this.width, region, rgba);
    wrtc.nonstandard.rgbaToI420({ width: region.w, height: region.h, data: rgba }, { width: region.w, height: region.h, data: i420 });
    this.out.video.onFrame({ width: region.w, height: region.h, data: i420 });
    this.videoWait(grabbedAt);
    this.videoCredit -= 1;
    this.stats.videoFrames += 1;
  }
}

/** Calls `submit` for each item, one a turn of the event loop (what came in meanwhile is served between them); each result as a promise. */
function spread<T, R>(items: readonly T[], submit: (item: T) => R | Promise<R>): Promise<R>[] {
  let turn = Promise.resolve();
  return items.map((item) => {
    // Boxed, so that the turn after it waits for the submission and not for the encode it started.
    const submitted = turn.then(() => nextTurn()).then(() => [submit(item)] as const);
    // A failed submission fails its own result, not the ones after it; the send that awaits the result, later, reports it.
    turn = submitted.then(
      () => undefined,
      () => undefined,
    );
    const result = submitted.then(([tile]) => tile);
    result.catch(() => undefined);
    return result;
  });
}
