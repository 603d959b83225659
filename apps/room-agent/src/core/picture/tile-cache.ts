import { CACHE_CELL, CACHE_SLOTS, type Rect } from '@roomlink/shared';
import { TILE, type TileGrid } from './tile-grid';

/** A cell of a picture: where it is, and the picture's pixels as 32-bit words (`width` a row). */
export interface CellPixels {
  words: Uint32Array;
  width: number;
  cell: Rect;
}

/**
 * The room's half of the console's tile cache: which cell each slot holds.
 * The room alone decides (least recently used goes first) and tells the
 * console; the console only follows, so the two never disagree. A cell is
 * found by a cheap hash of its pixels and then compared with the pixels the
 * slot was kept with, word for word: no hash collision, accidental or made
 * by a page on the room's screen, can pass one cell off as another. Costs
 * what the console's cache does (16 KiB a slot, allocated a page of 64 slots at a time as slots fill in order).
 */
export class TileCache {
  /** Hash → slot, least recently used first (a Map keeps insertion order). */
  private readonly slots = new Map<number, number>();
  private readonly kept: (Uint32Array | undefined)[] = [];
  /** Per slot, the size of the cell it holds (w << 16 | h). */
  private readonly sizes: Uint32Array;

  constructor(private readonly size = CACHE_SLOTS) {
    this.sizes = new Uint32Array(size);
  }

  /** The slot holding exactly this cell, now the most recently used; undefined when none does. */
  find(pixels: CellPixels, hash: number): number | undefined {
    const slot = this.slots.get(hash);
    if (slot === undefined || !this.holds(slot, pixels)) return undefined;
    this.slots.delete(hash);
    this.slots.set(hash, slot);
    return slot;
  }

  /** A slot for this cell, its pixels copied: the one its hash had (another cell, rare), a free one, or the least recently used. */
  keep(pixels: CellPixels, hash: number): number {
    let slot = this.slots.get(hash);
    if (slot !== undefined) this.slots.delete(hash);
    else if (this.slots.size < this.size) slot = this.slots.size;
    else {
      const [oldest, reused] = this.slots.entries().next().value!;
      this.slots.delete(oldest);
      slot = reused;
    }
    this.slots.set(hash, slot);
    const { words, width, cell } = pixels;
    const copy = (this.kept[slot] ??= new Uint32Array(CACHE_CELL * CACHE_CELL));
    for (let row = 0; row < cell.h; row++) copy.set(words.subarray((cell.y + row) * width + cell.x, (cell.y + row) * width + cell.x + cell.w), row * cell.w);
    this.sizes[slot] = (cell.w << 16) | cell.h;
    return slot;
  }

  /** The console's cache was emptied (a new display picture). */
  clear(): void {
    this.slots.clear();
    this.sizes.fill(0);
  }

  private holds(slot: number, { words, width, cell }: CellPixels): boolean {
    const copy = this.kept[slot];
    if (!copy || this.sizes[slot] !== ((cell.w << 16) | cell.h)) return false;
    for (let row = 0, k = 0; row < cell.h; row++) {
      for (let i = (cell.y + row) * width + cell.x, end = i + cell.w; i < end; i++, k++) if (words[i] !== copy[k]) return false;
    }
    return true;
  }
}

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;

/** xxHash32's round: every bit of the pixel reaches every bit of the lane (FNV's multiply alone never carries a word's high bits down). */
function round(lane: number, word: number): number {
  const mixed = (lane + Math.imul(word, PRIME2)) | 0;
  return Math.imul((mixed << 13) | (mixed >>> 19), PRIME1);
}

/**
 * Each marked cell's hash over its 32-bit pixels and its size: xxHash32's
 * four lanes, round and avalanche, cheap and only ever a hint (see
 * `TileCache`). One walk down the picture's rows, every marked cell of a
 * row of tiles at once, reads memory in order: twice the speed of hashing
 * cell after cell, each 64 rows apart. Unmarked cells get 0.
 */
export function cellHashes(words: Uint32Array, grid: TileGrid): Uint32Array {
  const hashes = new Uint32Array(grid.marks.length);
  const lanes = new Int32Array(grid.cols * 4);
  for (let tileRow = 0; tileRow < grid.rows; tileRow++) {
    const cols: number[] = [];
    for (let col = 0; col < grid.cols; col++) if (grid.marks[tileRow * grid.cols + col]) cols.push(col);
    if (cols.length === 0) continue;
    const top = tileRow * TILE;
    const bottom = Math.min(top + TILE, grid.height);
    for (const col of cols) lanes.set([PRIME1 + PRIME2, PRIME2, 0, -PRIME1], col * 4);
    for (let y = top; y < bottom; y++) {
      for (const col of cols) {
        const start = y * grid.width + col * TILE;
        const end = start + Math.min(TILE, grid.width - col * TILE);
        let a = lanes[col * 4]!;
        let b = lanes[col * 4 + 1]!;
        let c = lanes[col * 4 + 2]!;
        let d = lanes[col * 4 + 3]!;
        let i = start;
        for (const quads = end - ((end - start) & 3); i < quads; i += 4) {
          a = round(a, words[i]!);
          b = round(b, words[i + 1]!);
          c = round(c, words[i + 2]!);
          d = round(d, words[i + 3]!);
        }
        for (; i < end; i++) a = round(a, words[i]!);
        lanes[col * 4] = a;
        lanes[col * 4 + 1] = b;
        lanes[col * 4 + 2] = c;
        lanes[col * 4 + 3] = d;
      }
    }
    for (const col of cols) {
      const [a, b, c, d] = lanes.subarray(col * 4, col * 4 + 4) as unknown as [number, number, number, number];
      let h = (((a << 1) | (a >>> 31)) + ((b << 7) | (b >>> 25)) + ((c << 12) | (c >>> 20)) + ((d << 18) | (d >>> 14)) + ((Math.min(TILE, grid.width - col * TILE) << 16) | (bottom - top))) | 0;
      h = Math.imul(h ^ (h >>> 15), PRIME2);
      h = Math.imul(h ^ (h >>> 13), PRIME3);
      hashes[tileRow * grid.cols + col] = (h ^ (h >>> 16)) >>> 0;
    }
  }
  return hashes;
}
