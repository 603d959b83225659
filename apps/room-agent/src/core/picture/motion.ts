import type { Rect } from '@roomlink/shared';
import { TILE } from './tile-grid';

export interface MotionOptions {
  /** How far back the tracker looks for sustained change. */
  windowMs: number;
  /** Changed frames within the window that make it motion (6 in 500 ms: 12 fps, faster than anyone types into a large area). */
  minFrames: number;
  /** A frame counts only when at least this many tiles changed: a caret or a typed word never becomes video. */
  minTiles: number;
  /** Still this long, the region stops being video and is sent again losslessly. */
  stillMs: number;
}

export const defaultMotionOptions: MotionOptions = { windowMs: 500, minFrames: 6, minTiles: 6, stillMs: 400 };

/**
 * Decides which part of the display travels as video: a region that keeps
 * changing, frame after frame (a video playing, an animation), as RDP's
 * graphics pipeline and SPICE's stream detection do. Everything else goes
 * as tiles. The region only grows while motion lasts, so the encoder is not
 * restarted at every frame, and ends once it has been still for `stillMs`.
 */
export class MotionTracker {
  private recent: { at: number; bounds: Rect }[] = [];
  private lastMotionAt = 0;
  region: Rect | null = null;

  constructor(
    private readonly display: { width: number; height: number },
    private readonly options: MotionOptions = defaultMotionOptions,
  ) {}

  /**
   * Takes one captured frame's changed tiles (their bounds and count) and
   * returns the video region from now on, which may be the same object as
   * before (unchanged), another one, or null.
   */
  observe(bounds: Rect | null, tiles: number, now: number): Rect | null {
    const { windowMs, minFrames, minTiles, stillMs } = this.options;
    this.recent = this.recent.filter((f) => f.at > now - windowMs);
    if (bounds && this.region && overlaps(bounds, this.region)) this.lastMotionAt = now;
    if (bounds && tiles >= minTiles) this.recent.push({ at: now, bounds });
    if (this.recent.length >= minFrames) {
      const union = this.recent.map((f) => f.bounds).reduce(unionRect);
      const grown = evenRect(this.region ? unionRect(this.region, union) : union, this.display);
      if (!this.region || !sameRect(grown, this.region)) this.region = grown;
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

function unionRect(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
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
