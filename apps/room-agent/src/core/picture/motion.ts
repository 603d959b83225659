import type { Rect } from '@roomlink/shared';
import { TILE, unionRect } from './tile-grid';

export interface MotionOptions {
  /** A frame counts as motion only when at least this many tiles changed: a caret or a typed word never becomes video. */
  minTiles: number;
  /** Motion must last this long, frame after frame, before it becomes video. */
  sustainMs: number;
  /**
   * The longest pause between two moving frames that still counts as one
   * motion (250 ms: 4 fps). It bounds the app's repaint rate, not ours, so
   * a slow or busy room detects a video as surely as a fast one does.
   */
  maxGapMs: number;
  /** Moving frames needed within one motion, however long it lasted. */
  minFrames: number;
  /**
   * Change this soon after an injected key answers the technician (an app
   * repainting as they type) and is never motion: typing stays exact.
   */
  inputEchoMs: number;
  /** Still this long, the region stops being video and is sent again losslessly. */
  stillMs: number;
}

export const defaultMotionOptions: MotionOptions = { minTiles: 6, sustainMs: 300, maxGapMs: 250, minFrames: 3, inputEchoMs: 200, stillMs: 400 };

/** How far back the region's extent is taken from: the moving frames of the last half second. */
const EXTENT_MS = 500;

/**
 * Decides which part of the display travels as video: a region that keeps
 * changing by itself, frame after frame (a video playing, an animation), as
 * RDP's graphics pipeline and SPICE's stream detection do. Everything else
 * goes as tiles. The region grows while motion lasts and shrinks only to a
 * part under half its size where the motion has kept for half a second, so
 * the encoder is rarely restarted; it ends once still for `stillMs`.
 */
export class MotionTracker {
  /** The current motion's frames (the last EXTENT_MS of them) and when it began. */
  private run: { at: number; bounds: Rect }[] = [];
  private runFrames = 0;
  private runStartedAt = 0;
  private lastMotionAt = 0;
  private lastInputAt = -Infinity;
  region: Rect | null = null;

  constructor(
    private readonly display: { width: number; height: number },
    private readonly options: MotionOptions = defaultMotionOptions,
  ) {}

  /** A key was injected: what changes next is the app answering it. */
  input(now: number): void {
    this.lastInputAt = now;
  }

  /**
   * Takes one captured frame's changed tiles (their bounds and count) and
   * returns the video region from now on, which may be the same object as
   * before (unchanged), another one, or null.
   */
  observe(bounds: Rect | null, tiles: number, now: number): Rect | null {
    const { minTiles, sustainMs, maxGapMs, minFrames, inputEchoMs, stillMs } = this.options;
    if (bounds && this.region && overlaps(bounds, this.region)) this.lastMotionAt = now;
    const last = this.run.at(-1);
    if (last && now - last.at > maxGapMs) this.run = [];
    if (bounds && tiles >= minTiles && now - this.lastInputAt > inputEchoMs) {
      if (this.run.length === 0) {
        this.runStartedAt = now;
        this.runFrames = 0;
      }
      this.run = this.run.filter((f) => f.at > now - EXTENT_MS);
      this.run.push({ at: now, bounds });
      this.runFrames += 1;
    }
    if (this.run.length > 0 && this.runFrames >= minFrames && now - this.runStartedAt >= sustainMs) {
      const recent = evenRect(this.run.map((f) => f.bounds).reduce(unionRect), this.display);
      const grown = evenRect(unionRect(this.region, recent), this.display);
      // Motion that has kept to a part of the region for EXTENT_MS (a video once the window that opened it is drawn) takes the
      // region down to that part: one encoder restart, then far fewer pixels a frame.
      if (this.region && area(recent) * 2 <= area(this.region)) this.region = recent;
      else if (!this.region || !sameRect(grown, this.region)) this.region = grown;
      this.lastMotionAt = now;
    } else if (this.region && now - this.lastMotionAt >= stillMs) {
      this.region = null;
    }
    return this.region;
  }
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function area(rect: Rect): number {
  return rect.w * rect.h;
}

function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h;
}

/** Tile-aligned (so whole tiles leave the tile path) with an even size, as I420 needs. */
function evenRect(rect: Rect, display: { width: number; height: number }): Rect {
  const x = Math.floor(rect.x / TILE) * TILE;
  const y = Math.floor(rect.y / TILE) * TILE;
  const right = Math.min(display.width, Math.ceil((rect.x + rect.w) / TILE) * TILE);
  const bottom = Math.min(display.height, Math.ceil((rect.y + rect.h) / TILE) * TILE);
  return { x, y, w: (right - x) & ~1, h: (bottom - y) & ~1 };
}
