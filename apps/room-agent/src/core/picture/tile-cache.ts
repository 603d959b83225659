import { createHash } from 'node:crypto';
import { CACHE_SLOTS, type Rect } from '@roomlink/shared';

/**
 * The room's half of the console's tile cache: which cell content each slot
 * holds, by a SHA-256 of its pixels. The room alone decides (least recently
 * used goes first) and tells the console; the console only follows, so the
 * two never disagree. A strong hash, because what the room shows is not
 * ours to trust: a page on the room's screen must not be able to pass one
 * cell off as another.
 */
export class TileCache {
  /** Content → slot, least recently used first (a Map keeps insertion order). */
  private readonly slots = new Map<string, number>();

  constructor(private readonly size = CACHE_SLOTS) {}

  /** The slot already holding this content, now the most recently used; undefined when none does. */
  find(content: string): number | undefined {
    const slot = this.slots.get(content);
    if (slot === undefined) return undefined;
    this.slots.delete(content);
    this.slots.set(content, slot);
    return slot;
  }

  /** A slot for this content: a free one, or the least recently used one's. */
  keep(content: string): number {
    let slot = this.slots.size;
    if (slot >= this.size) {
      const [oldest, reused] = this.slots.entries().next().value!;
      this.slots.delete(oldest);
      slot = reused;
    }
    this.slots.set(content, slot);
    return slot;
  }

  has(content: string): boolean {
    return this.slots.has(content);
  }

  /** The console's cache was emptied (a new display picture). */
  clear(): void {
    this.slots.clear();
  }
}

/** What a cell shows, as a cache key: its size and a SHA-256 of its RGBA rows in `pixels` (`width` wide). */
export function cellContent(pixels: Uint8Array, width: number, cell: Rect): string {
  const hash = createHash('sha256');
  for (let y = cell.y; y < cell.y + cell.h; y++) {
    const at = (y * width + cell.x) * 4;
    hash.update(pixels.subarray(at, at + cell.w * 4));
  }
  return `${cell.w}x${cell.h}:${hash.digest('base64')}`;
}
