import type { Rect } from '@roomlink/shared';

/** Tile side in pixels: small enough that a typed character costs one or two tiles, large enough that a full screen is ~500. */
export const TILE = 64;
/**
 * Rectangles are cut into bands this many tiles high, so that a large change
 * encodes on several threads and decodes in parallel. Measured on a 1080p
 * log screen, 2 cores, lossless WebP effort 0: 256-px bands 46 ms and 44 KB,
 * 128-px bands 56 ms and 65 KB, the whole screen at once 209 ms and 21 KB.
 */
export const BAND_TILES = 4;

/**
 * Lossless WebP of a photographic region costs more than its area: on a
 * noisy photo, 16 tiles in one image took 7-14 ms, 32 tiles 15-18 ms, 60
 * tiles 55 ms, 64 tiles 65 ms. A lossless refresh (a photo that stopped
 * moving) is cut into pieces of at most this many tiles, which also
 * encode in parallel.
 */
export const REFRESH_PIECE_TILES = 16;

/** A tile-aligned rectangle cut along its width into pieces of at most `maxTiles` tiles. */
export function pieces(rect: Rect, maxTiles: number): Rect[] {
  const step = Math.max(1, Math.floor(maxTiles / Math.ceil(rect.h / TILE))) * TILE;
  const out: Rect[] = [];
  for (let x = rect.x; x < rect.x + rect.w; x += step) out.push({ x, y: rect.y, w: Math.min(step, rect.x + rect.w - x), h: rect.h });
  return out;
}

/**
 * A display cut into TILE x TILE cells, with one mark per cell. The picture
 * pump marks what changed since the console last got it, what still waits
 * for a lossless refresh, and what the video region covers.
 */
export class TileGrid {
  readonly cols: number;
  readonly rows: number;
  readonly marks: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.cols = Math.ceil(width / TILE);
    this.rows = Math.ceil(height / TILE);
    this.marks = new Uint8Array(this.cols * this.rows);
  }

  get any(): boolean {
    return this.marks.includes(1);
  }

  get count(): number {
    let n = 0;
    for (const m of this.marks) n += m;
    return n;
  }

  clear(): void {
    this.marks.fill(0);
  }

  markAll(): void {
    this.marks.fill(1);
  }

  /** Marks every tile `rect` touches. */
  mark(rect: Rect): void {
    this.forEachTile(rect, (i) => (this.marks[i] = 1));
  }

  unmark(rect: Rect): void {
    this.forEachTile(rect, (i) => (this.marks[i] = 0));
  }

  /** Marks what `other` marks. */
  add(other: TileGrid): void {
    for (let i = 0; i < this.marks.length; i++) if (other.marks[i]) this.marks[i] = 1;
  }

  /** Whether any tile `rect` touches is marked. */
  touches(rect: Rect): boolean {
    let hit = false;
    this.forEachTile(rect, (i) => (hit ||= this.marks[i] === 1));
    return hit;
  }

  /** The indices of the tiles `rect` touches. */
  indices(rect: Rect): number[] {
    const out: number[] = [];
    this.forEachTile(rect, (i) => out.push(i));
    return out;
  }

  /** The pixel rectangle of one tile, clipped to the display. */
  tileRect(col: number, row: number): Rect {
    const x = col * TILE;
    const y = row * TILE;
    return { x, y, w: Math.min(TILE, this.width - x), h: Math.min(TILE, this.height - y) };
  }

  /** The bounding box of the marked tiles, or null. */
  bounds(): Rect | null {
    let left = this.cols;
    let top = this.rows;
    let right = -1;
    let bottom = -1;
    for (let row = 0; row < this.rows; row++) {
      for (let col = 0; col < this.cols; col++) {
        if (!this.marks[row * this.cols + col]) continue;
        left = Math.min(left, col);
        right = Math.max(right, col);
        top = Math.min(top, row);
        bottom = Math.max(bottom, row);
      }
    }
    if (right < 0) return null;
    const x = left * TILE;
    const y = top * TILE;
    return { x, y, w: Math.min((right + 1) * TILE, this.width) - x, h: Math.min((bottom + 1) * TILE, this.height) - y };
  }

  /**
   * The marked tiles as few rectangles: runs along each row of tiles, joined
   * downwards while the run below spans the same columns, up to
   * `BAND_TILES` rows.
   */
  rects(): Rect[] {
    const out: Rect[] = [];
    let open = new Map<string, { rect: Rect; tiles: number }>();
    for (let row = 0; row < this.rows; row++) {
      const next = new Map<string, { rect: Rect; tiles: number }>();
      for (let col = 0; col < this.cols; ) {
        if (!this.marks[row * this.cols + col]) {
          col++;
          continue;
        }
        const start = col;
        while (col < this.cols && this.marks[row * this.cols + col]) col++;
        const key = `${start}:${col}`;
        const above = open.get(key);
        const here = this.tileRect(start, row);
        const w = Math.min(col * TILE, this.width) - here.x;
        if (above && above.tiles < BAND_TILES) {
          above.rect.h += here.h;
          above.tiles += 1;
          next.set(key, above);
          open.delete(key);
        } else {
          const band = { rect: { x: here.x, y: here.y, w, h: here.h }, tiles: 1 };
          out.push(band.rect);
          next.set(key, band);
        }
      }
      open = next;
    }
    return out;
  }

  private forEachTile(rect: Rect, visit: (index: number) => void): void {
    const right = Math.min(this.cols, Math.ceil((rect.x + rect.w) / TILE));
    const bottom = Math.min(this.rows, Math.ceil((rect.y + rect.h) / TILE));
    for (let row = Math.max(0, Math.floor(rect.y / TILE)); row < bottom; row++) {
      for (let col = Math.max(0, Math.floor(rect.x / TILE)); col < right; col++) visit(row * this.cols + col);
    }
  }
}

/**
 * Joins rectangles that overlap or lie within `gap` pixels of each other
 * (both ways), until none do: the pieces of one glyph that straddles tiles
 * become one rectangle, a caret and a character far from it stay two.
 */
export function joinNear(rects: Rect[], gap: number): Rect[] {
  const out = [...rects];
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      const a = out[i]!;
      const b = out[j]!;
      const apart = Math.max(a.x - (b.x + b.w), b.x - (a.x + a.w), a.y - (b.y + b.h), b.y - (a.y + a.h));
      if (apart > gap) continue;
      out[i] = unionRect(a, b);
      out.splice(j, 1);
      j = i;
    }
  }
  return out;
}

/** Changes of at most this many tiles get their exact pixel bounds: a typed character, not a repainted window. */
export const EXACT_BOUNDS_TILES = 8;

/**
 * Marks in `changed` the tiles where `current` (the pixels of `area`, rows
 * packed) differs from `reference` (the whole display, `changed.width`
 * wide), and copies the rows that differ into `reference`. Each row of the
 * area is compared whole first, so unchanged rows cost one comparison each.
 * For a small change, returns the exact bounds of the differing pixels in
 * each changed tile, by tile index; for a large one, null (the tiles are
 * sent whole).
 */
export function diffInto(changed: TileGrid, reference: Uint8Array, current: Uint8Array, area: Rect): Map<number, Rect[]> | null {
  const { width } = changed;
  const rowBytes = area.w * 4;
  if (area.x < 0 || area.y < 0 || area.x + area.w > width || area.y + area.h > changed.height) throw new Error(`Area ${area.w}x${area.h}+${area.x}+${area.y} is outside the ${width}x${changed.height} display.`);
  if (current.byteLength < rowBytes * area.h) throw new Error(`${current.byteLength} bytes are too few for ${area.w}x${area.h} pixels.`);
  const ref = Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength);
  const cur = Buffer.from(current.buffer, current.byteOffset, rowBytes * area.h);
  const firstCol = Math.floor(area.x / TILE);
  const lastCol = Math.ceil((area.x + area.w) / TILE);
  const differing: number[] = [];
  for (let row = 0; row < area.h; row++) {
    const at = ((area.y + row) * width + area.x) * 4;
    const source = cur.subarray(row * rowBytes, (row + 1) * rowBytes);
    if (source.equals(ref.subarray(at, at + rowBytes))) continue;
    differing.push(row);
    const tileRow = Math.floor((area.y + row) / TILE);
    for (let col = firstCol; col < lastCol; col++) {
      const index = tileRow * changed.cols + col;
      if (changed.marks[index]) continue;
      const start = (Math.max(col * TILE, area.x) - area.x) * 4;
      const end = (Math.min((col + 1) * TILE, area.x + area.w) - area.x) * 4;
      if (!source.subarray(start, end).equals(ref.subarray(at + start, at + end))) changed.marks[index] = 1;
    }
  }
  const bounds = changed.count <= EXACT_BOUNDS_TILES ? changedBounds(changed, reference, current, area) : null;
  for (const row of differing) ref.set(cur.subarray(row * rowBytes, (row + 1) * rowBytes), ((area.y + row) * width + area.x) * 4);
  return bounds;
}

/** Side of the cells whose changed pixels are boxed separately within a tile: a caret above a line of text stays apart from it. */
const CELL = 16;
/** Pixels between two changed boxes below which they are sent as one rectangle. */
export const JOIN_GAP = 8;

/** The boxes around the pixels that differ in each marked tile (within `area`, whose pixels `current` holds): one per 16-px cell that changed, joined where they nearly touch. */
function changedBounds(grid: TileGrid, reference: Uint8Array, current: Uint8Array, area: Rect): Map<number, Rect[]> {
  const ref = new Uint32Array(reference.buffer, reference.byteOffset, reference.byteLength / 4);
  const cur = new Uint32Array(current.buffer, current.byteOffset, area.w * area.h);
  const out = new Map<number, Rect[]>();
  grid.marks.forEach((mark, index) => {
    if (!mark) return;
    const tile = grid.tileRect(index % grid.cols, Math.floor(index / grid.cols));
    const boxes: Rect[] = [];
    for (let cy = tile.y; cy < tile.y + tile.h; cy += CELL) {
      for (let cx = tile.x; cx < tile.x + tile.w; cx += CELL) {
        let left = Infinity;
        let right = -1;
        let top = Infinity;
        let bottom = -1;
        const xEnd = Math.min(cx + CELL, tile.x + tile.w, area.x + area.w);
        for (let y = Math.max(cy, area.y), yEnd = Math.min(cy + CELL, tile.y + tile.h, area.y + area.h); y < yEnd; y++) {
          const row = y * grid.width;
          const areaRow = (y - area.y) * area.w - area.x;
          for (let x = Math.max(cx, area.x); x < xEnd; x++) {
            if (ref[row + x] === cur[areaRow + x]) continue;
            left = Math.min(left, x);
            right = Math.max(right, x);
            top = Math.min(top, y);
            bottom = y;
          }
        }
        if (right >= 0) boxes.push({ x: left, y: top, w: right - left + 1, h: bottom - top + 1 });
      }
    }
    if (boxes.length > 0) out.set(index, joinNear(boxes, JOIN_GAP));
  });
  return out;
}

/** The smallest rectangle holding both (just `b` when there is no `a` yet). */
export function unionRect(a: Rect | null, b: Rect): Rect {
  if (!a) return b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}
