import sharp from 'sharp';
import type { Rect, TileFormat } from '@roomlink/shared';
import { cropRgba } from './tile-grid';

export interface EncodedTile extends Rect {
  format: TileFormat;
  image: Uint8Array;
  /** Whether the console will show these pixels exactly. */
  exact: boolean;
}

/** JPEG quality for photographic regions in motion; they are sent again losslessly once still. */
const JPEG_QUALITY = 80;
/** Baseline libjpeg-turbo behaviour: mozjpeg's trellis and scan optimisation cost 3x the time for a few per cent of bytes (measured: 17 ms against 6 ms for a noisy 960x540 region). */
const jpegOptions = { quality: JPEG_QUALITY, optimiseCoding: false, trellisQuantisation: false, overshootDeringing: false, optimiseScans: false, quantisationTable: 0, chromaSubsampling: '4:2:0' } as const;
/** Colours in a sample above which a region counts as photographic. */
const PHOTO_COLOURS = 160;
const SAMPLES = 1024;

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
 * Encodes one rectangle of a display (RGBA, `width` wide) with libvips:
 * lossless WebP for text and UI (measured on a 1080p log screen: 27 KB where
 * PNG took 720 KB), JPEG for photographic regions unless `exact` is asked
 * for. Runs on libuv's thread pool, so several rectangles encode at once and
 * the event loop keeps serving input.
 */
export async function encodeTile(pixels: Uint8Array, width: number, rect: Rect, exact: boolean): Promise<EncodedTile> {
  const lossy = !exact && looksPhotographic(pixels, width, rect);
  const image = sharp(cropRgba(pixels, width, rect), { raw: { width: rect.w, height: rect.h, channels: 4 } }).removeAlpha();
  const bytes = lossy
    ? await image.jpeg(jpegOptions).toBuffer()
    : await image.webp({ lossless: true, effort: 0 }).toBuffer();
  return { ...rect, format: lossy ? 'jpeg' : 'webp', image: bytes, exact: !lossy };
}
