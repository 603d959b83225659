import { deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import type { Rect, Tile } from '@roomlink/shared';

export interface EncodedTile extends Tile {
  /** Whether the console will show these pixels exactly. */
  exact: boolean;
}

/**
 * JPEG quality for photographic regions in motion; they are sent again
 * losslessly once still. Bench workloads 2 and 2b (a 960x540 photo a key),
 * medians of 20 keys: quality 80 took 82-92 ms and 188-230 KB a key, 70 took
 * 74-78 ms and 144-155 KB, 60 took 72 ms and 115-125 KB.
 */
const JPEG_QUALITY = 70;
/** Baseline libjpeg-turbo behaviour: mozjpeg's trellis and scan optimisation cost 3x the time for a few per cent of bytes (measured: 17 ms against 6 ms for a noisy 960x540 region). */
const jpegOptions = { quality: JPEG_QUALITY, optimiseCoding: false, trellisQuantisation: false, overshootDeringing: false, optimiseScans: false, quantisationTable: 0, chromaSubsampling: '4:2:0' } as const;
/** Colours in a sample above which a region counts as photographic. */
const PHOTO_COLOURS = 160;
const SAMPLES = 1024;
/**
 * Rectangles up to this many pixels (a few characters, a caret, a button)
 * are deflated here and now, and drawn by the console the moment they
 * arrive: no thread-pool round trip on the room (sharp costs 1.8 ms for a
 * 40x40 tile, deflate 0.06 ms) and no asynchronous image decode on the
 * console. Larger ones go to libvips, whose WebP is far smaller on text.
 */
const SMALL_TILE_PIXELS = 64 * 64;

/**
 * Whether a region looks photographic: many distinct colours in an even
 * sample of its pixels. Text and UI (flat fills, anti-aliased glyphs) stay
 * well below the threshold and go lossless; photos and gradients go lossy.
 */
export function looksPhotographic(pixels: Uint8Array, width: number, rect: Rect): boolean {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  const step = Math.max(1, Math.floor((rect.w * rect.h) / SAMPLES));
  const seen = new Set<number>();
  for (let i = 0; i < rect.w * rect.h; i += step) {
    const x = rect.x + (i % rect.w);
    const y = rect.y + Math.floor(i / rect.w);
    seen.add(words[y * width + x]!);
    if (seen.size > PHOTO_COLOURS) return true;
  }
  return false;
}

/**
 * Encodes one rectangle of a display (B, G, R, X as captured, `width` wide): one colour as a
 * fill, a small rectangle as deflated RGB, both at once; otherwise with
 * libvips on libuv's thread pool (so several rectangles encode together and
 * the event loop keeps serving input): lossless for text and UI (see
 * `Lossless`), JPEG for photographic regions unless `exact` is asked for.
 */
export function encodeTile(pixels: Uint8Array, width: number, rect: Rect, exact: boolean, lossless: Lossless = 'compact'): EncodedTile | Promise<EncodedTile> {
  const colour = solidColour(pixels, width, rect);
  if (colour) return { ...rect, format: 'fill', image: colour, exact: true };
  const lossy = !exact && looksPhotographic(pixels, width, rect);
  if (!lossy && rect.w * rect.h <= SMALL_TILE_PIXELS) return { ...rect, format: 'zlib', image: deflateRawSync(cropRgb(pixels, width, rect)), exact: true };
  return encodeImage(pixels, width, rect, lossy ? null : lossless);
}

/**
 * How a large lossless rectangle is encoded: `compact` is WebP; `fast` is
 * PNG at deflate level 1 without filters, for a link where bytes are cheap
 * and time is not. A 1920x256 strip of a 1080p log screen: 5 ms and 147 KB
 * as fast PNG, 22-35 ms and 9 KB as WebP.
 */
export type Lossless = 'compact' | 'fast';

async function encodeImage(pixels: Uint8Array, width: number, rect: Rect, lossless: Lossless | null): Promise<EncodedTile> {
  const image = sharp(cropRgba(pixels, width, rect), { raw: { width: rect.w, height: rect.h, channels: 4 } }).removeAlpha();
  if (lossless === null) return { ...rect, format: 'jpeg', image: await image.jpeg(jpegOptions).toBuffer(), exact: false };
  if (lossless === 'fast') return { ...rect, format: 'png', image: await image.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer(), exact: true };
  return { ...rect, format: 'webp', image: await image.webp({ lossless: true, effort: 0 }).toBuffer(), exact: true };
}

/** The rectangle's colour as RGB when every pixel has it, else null (usually known from the first rows). */
export function solidColour(pixels: Uint8Array, width: number, rect: Rect): Uint8Array | null {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  const first = words[rect.y * width + rect.x]!;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let i = y * width + rect.x, end = i + rect.w; i < end; i++) if (words[i] !== first) return null;
  }
  return Uint8Array.of((first >>> 16) & 0xff, (first >>> 8) & 0xff, first & 0xff);
}

/** The pixels of `rect` as RGB, rows packed, in a buffer of their own. */
function cropRgb(pixels: Uint8Array, width: number, rect: Rect): Uint8Array {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  const out = new Uint8Array(rect.w * rect.h * 3);
  let o = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let i = y * width + rect.x, end = i + rect.w; i < end; i++) {
      const v = words[i]!;
      out[o++] = (v >>> 16) & 0xff;
      out[o++] = (v >>> 8) & 0xff;
      out[o++] = v & 0xff;
    }
  }
  return out;
}

/**
 * The pixels of `rect` as opaque RGBA, rows packed, one store a pixel where
 * RGB takes three: in a buffer of their own, or in `into` (at least
 * `rect.w * rect.h * 4` bytes) when the caller reuses one.
 */
export function cropRgba(pixels: Uint8Array, width: number, rect: Rect, into?: Uint8Array): Uint8Array {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4);
  const out = into ? new Uint32Array(into.buffer, into.byteOffset, rect.w * rect.h) : new Uint32Array(rect.w * rect.h);
  let o = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let i = y * width + rect.x, end = i + rect.w; i < end; i++) {
      const v = words[i]!;
      // Little-endian RGBA is the word 0xAABBGGRR: swap the red and blue bytes of 0x__RRGGBB, make it opaque.
      out[o++] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
