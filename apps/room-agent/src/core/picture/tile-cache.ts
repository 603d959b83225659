import { CACHE_CELL, CACHE_SLOTS, type Rect } from '@roomlink/shared';

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
 * what the console's cache does (16 KiB a slot, allocated as slots fill).
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

/**
 * FNV-1a over the cell's 32-bit pixels and its size, in four interleaved
 * lanes (four times the speed of one: the multiplications no longer wait on
 * each other): cheap, and only ever a hint (see `TileCache`).
 */
export function cellHash({ words, width, cell }: CellPixels): number {
  const prime = 0x01000193;
  let a = Math.imul(0x811c9dc5 ^ ((cell.w << 16) | cell.h), prime);
  let b = Math.imul(a, prime);
  let c = Math.imul(b, prime);
  let d = Math.imul(c, prime);
  const quads = cell.w & ~3;
  for (let row = 0; row < cell.h; row++) {
    const start = (cell.y + row) * width + cell.x;
    let i = start;
    for (const end = start + quads; i < end; i += 4) {
      a = Math.imul(a ^ words[i]!, prime);
      b = Math.imul(b ^ words[i + 1]!, prime);
      c = Math.imul(c ^ words[i + 2]!, prime);
      d = Math.imul(d ^ words[i + 3]!, prime);
    }
    for (const end = start + cell.w; i < end; i++) a = Math.imul(a ^ words[i]!, prime);
  }
  return Math.imul(Math.imul(Math.imul(a ^ b, prime) ^ c, prime) ^ d, prime) >>> 0;
}
