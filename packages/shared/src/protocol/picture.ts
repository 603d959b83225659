/**
 * The picture channel: the room's display as tiles (damaged rectangles,
 * encoded as images) and as a video region, on a binary data channel of the
 * session's peer connection. The room decides, per change, which way each
 * part of the screen travels; the console draws both on one canvas.
 *
 * Messages are little-endian binary, one kind byte first:
 *
 * | kind | fields |
 * |---|---|
 * | `display` | epoch u32, width u16, height u16: a whole new picture follows (session start, display switch, refresh) |
 * | `tiles` | epoch u32, frame u32, flags u8 (1 = the frame's last), count u16, then per tile: x y w h u16, format u8, length u32, image bytes |
 * | `video` | epoch u32, frame u32, x y w h u16: from this frame on, the region shows the video track (w = 0: no region) |
 * | `keep` | epoch u32, frame u32, count u16, then per cell: x y w h u16, slot u16: copy these cells of the canvas into the tile cache |
 *
 * The console draws a frame's tiles together when its last `tiles` message
 * arrives. A small change (a typed character and its caret) travels as one
 * message; a large one as a message per band, sent as each is encoded.
 *
 * The tile cache: the room names cells the console has just drawn exactly
 * (`keep`, after their frame), and later draws them again by slot (a
 * `cached` tile) instead of encoding pixels the console already has: a
 * window closed, a tab switched back, a screen seen before. The room decides
 * which slot holds what; the console only follows, so both always agree.
 * A `display` message empties the cache.
 *
 * A message larger than a data-channel message travels as fragments, each
 * with a one-byte header saying whether more follow.
 */

export const PICTURE_CHANNEL_LABEL = 'picture';
/** Negotiated out of band by both ends, so the peer libraries never see the channel as theirs. */
export const PICTURE_CHANNEL_ID = 1000;
/** Below every implementation's data-channel message limit (wrtc and Chromium accept 256 KB). */
export const PICTURE_FRAGMENT_BYTES = 64 * 1024;
/** Largest assembled message the console accepts: a 4K display as a poorly compressed image. */
export const MAX_PICTURE_MESSAGE_BYTES = 48 * 1024 * 1024;
/** Largest display either end deals with, per side. */
export const MAX_DISPLAY_SIDE = 8192;
/**
 * Largest `zlib` tile, in pixels. Raw deflate is for small changes that
 * must draw at once; the cap keeps what a hostile room can make the
 * console inflate small.
 */
export const MAX_ZLIB_TILE_PIXELS = 256 * 256;
/** Slots in the console's tile cache: about four 1080p screens of detail (64x64 RGBA cells: 32 MiB). */
export const CACHE_SLOTS = 2048;
/** Largest side of a cached cell. */
export const CACHE_CELL = 64;

/**
 * How a tile's pixels are encoded:
 * - `png`, `jpeg`, `webp`: an image file, decoded by the console off its main thread;
 * - `fill`: one colour (3 bytes, RGB) over the whole rectangle;
 * - `zlib`: the rectangle's RGB rows, raw deflate (RFC 1951), at most `MAX_ZLIB_TILE_PIXELS`;
 * - `cached`: the tile cache's slot (u16) holding exactly these pixels, kept earlier.
 */
export const tileFormats = ['png', 'jpeg', 'webp', 'fill', 'zlib', 'cached'] as const;
export type TileFormat = (typeof tileFormats)[number];

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Tile extends Rect {
  format: TileFormat;
  image: Uint8Array;
}

/** A cell of the canvas the console copies into a slot of its tile cache. */
export interface KeptCell extends Rect {
  slot: number;
}

export type PictureMessage =
  | { kind: 'display'; epoch: number; width: number; height: number }
  | { kind: 'tiles'; epoch: number; frame: number; last: boolean; tiles: Tile[] }
  | ({ kind: 'video'; epoch: number; frame: number } & Rect)
  | { kind: 'keep'; epoch: number; frame: number; cells: KeptCell[] };

const kinds = ['display', 'tiles', 'video', 'keep'] as const;
const headerBytes: Record<PictureMessage['kind'], number> = { display: 9, tiles: 12, video: 17, keep: 11 };
const TILE_HEADER_BYTES = 13;
const KEPT_CELL_BYTES = 10;

export class PictureError extends Error {
  /** `cache_miss`: a cached tile names a slot the console has not been told to keep, or kept at another size. */
  constructor(readonly reason: 'malformed' | 'outside_display' | 'size_mismatch' | 'too_large' | 'undecodable' | 'cache_miss') {
    super(`picture message ${reason.replace('_', ' ')}`);
  }
}

export function encodePicture(message: PictureMessage): Uint8Array {
  const body = message.kind === 'tiles' ? message.tiles.reduce((sum, t) => sum + TILE_HEADER_BYTES + t.image.byteLength, 0) : message.kind === 'keep' ? message.cells.length * KEPT_CELL_BYTES : 0;
  const size = headerBytes[message.kind] + body;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, kinds.indexOf(message.kind));
  view.setUint32(1, message.epoch, true);
  switch (message.kind) {
    case 'display':
      view.setUint16(5, message.width, true);
      view.setUint16(7, message.height, true);
      break;
    case 'video':
      view.setUint32(5, message.frame, true);
      writeRect(view, 9, message);
      break;
    case 'keep': {
      view.setUint32(5, message.frame, true);
      view.setUint16(9, message.cells.length, true);
      let at = 11;
      for (const cell of message.cells) {
        writeRect(view, at, cell);
        view.setUint16(at + 8, cell.slot, true);
        at += KEPT_CELL_BYTES;
      }
      break;
    }
    case 'tiles': {
      view.setUint32(5, message.frame, true);
      view.setUint8(9, message.last ? 1 : 0);
      view.setUint16(10, message.tiles.length, true);
      let at = 12;
      for (const tile of message.tiles) {
        writeRect(view, at, tile);
        view.setUint8(at + 8, tileFormats.indexOf(tile.format));
        view.setUint32(at + 9, tile.image.byteLength, true);
        bytes.set(tile.image, at + TILE_HEADER_BYTES);
        at += TILE_HEADER_BYTES + tile.image.byteLength;
      }
    }
  }
  return bytes;
}

/** Parses one assembled message; throws `PictureError('malformed')` for anything that is not one. */
export function decodePicture(bytes: Uint8Array): PictureMessage {
  const kind = kinds[bytes[0] ?? 255];
  if (!kind || bytes.byteLength < headerBytes[kind]) throw new PictureError('malformed');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const epoch = view.getUint32(1, true);
  if (kind === 'display') {
    const width = view.getUint16(5, true);
    const height = view.getUint16(7, true);
    if (bytes.byteLength !== 9 || width === 0 || height === 0 || width > MAX_DISPLAY_SIDE || height > MAX_DISPLAY_SIDE) throw new PictureError('malformed');
    return { kind, epoch, width, height };
  }
  const frame = view.getUint32(5, true);
  if (kind === 'video') {
    const rect = readRect(view, 9);
    if (bytes.byteLength !== 17 || (rect.w === 0) !== (rect.h === 0)) throw new PictureError('malformed');
    return { kind, epoch, frame, ...rect };
  }
  if (kind === 'keep') return { kind, epoch, frame, cells: readKeptCells(view) };
  const flags = view.getUint8(9);
  const count = view.getUint16(10, true);
  if (flags > 1 || count === 0) throw new PictureError('malformed');
  const tiles: Tile[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (bytes.byteLength < at + TILE_HEADER_BYTES) throw new PictureError('malformed');
    const rect = readRect(view, at);
    const format = tileFormats[view.getUint8(at + 8)];
    const length = view.getUint32(at + 9, true);
    at += TILE_HEADER_BYTES;
    if (!format || rect.w === 0 || rect.h === 0 || length === 0 || bytes.byteLength < at + length) throw new PictureError('malformed');
    tiles.push({ ...rect, format, image: bytes.subarray(at, at + length) });
    at += length;
  }
  if (at !== bytes.byteLength) throw new PictureError('malformed');
  return { kind, epoch, frame, last: flags === 1, tiles };
}

function readKeptCells(view: DataView): KeptCell[] {
  const count = view.getUint16(9, true);
  if (count === 0 || view.byteLength !== headerBytes.keep + count * KEPT_CELL_BYTES) throw new PictureError('malformed');
  const cells: KeptCell[] = [];
  for (let at = headerBytes.keep; at < view.byteLength; at += KEPT_CELL_BYTES) {
    const cell = { ...readRect(view, at), slot: view.getUint16(at + 8, true) };
    if (cell.w === 0 || cell.h === 0 || cell.w > CACHE_CELL || cell.h > CACHE_CELL || cell.slot >= CACHE_SLOTS) throw new PictureError('malformed');
    cells.push(cell);
  }
  return cells;
}

function writeRect(view: DataView, at: number, rect: Rect): void {
  view.setUint16(at, rect.x, true);
  view.setUint16(at + 2, rect.y, true);
  view.setUint16(at + 4, rect.w, true);
  view.setUint16(at + 6, rect.h, true);
}

function readRect(view: DataView, at: number): Rect {
  return { x: view.getUint16(at, true), y: view.getUint16(at + 2, true), w: view.getUint16(at + 4, true), h: view.getUint16(at + 6, true) };
}

/** Whether `rect` lies wholly inside a display of the given size. */
export function insideDisplay(rect: Rect, display: { width: number; height: number }): boolean {
  return rect.x + rect.w <= display.width && rect.y + rect.h <= display.height;
}

/** Splits an encoded message into data-channel messages: a header byte (1 = last) then up to `PICTURE_FRAGMENT_BYTES - 1` bytes. */
export function fragmentPicture(message: Uint8Array): Uint8Array<ArrayBuffer>[] {
  const room = PICTURE_FRAGMENT_BYTES - 1;
  const fragments: Uint8Array<ArrayBuffer>[] = [];
  for (let at = 0; at < message.byteLength || fragments.length === 0; at += room) {
    const part = message.subarray(at, at + room);
    const fragment = new Uint8Array(part.byteLength + 1);
    fragment[0] = at + room >= message.byteLength ? 1 : 0;
    fragment.set(part, 1);
    fragments.push(fragment);
  }
  return fragments;
}

/**
 * Joins fragments back into messages. A message that grows past the limit
 * is thrown away whole (its remaining fragments too) and reported once.
 */
export class PictureAssembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private discarding = false;

  constructor(private readonly maxBytes = MAX_PICTURE_MESSAGE_BYTES) {}

  /** Returns the assembled message when `fragment` completes one; throws `PictureError('too_large')` once per oversized message. */
  push(fragment: Uint8Array): Uint8Array | null {
    if (fragment.byteLength === 0) throw new PictureError('malformed');
    const last = fragment[0] === 1;
    if (this.discarding) {
      if (last) this.discarding = false;
      return null;
    }
    this.size += fragment.byteLength - 1;
    if (this.size > this.maxBytes) {
      this.parts = [];
      this.size = 0;
      this.discarding = !last;
      throw new PictureError('too_large');
    }
    this.parts.push(fragment.subarray(1));
    if (!last) return null;
    const whole = this.parts.length === 1 ? this.parts[0]! : concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return whole;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const whole = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.byteLength;
  }
  return whole;
}

/**
 * The width and height an encoded image declares, read from its header
 * without decoding it, or null when the bytes are not an image of that
 * format. The console compares them with the tile before it decodes
 * anything, so a small file cannot unpack into a huge bitmap.
 */
export function imageSize(format: 'png' | 'jpeg' | 'webp', bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (n: number) => bytes.byteLength >= n;
  if (format === 'png') {
    const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    if (!has(24) || signature.some((b, i) => bytes[i] !== b) || ascii(bytes, 12, 4) !== 'IHDR') return null;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (format === 'jpeg') {
    if (!has(4) || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
    for (let at = 2; has(at + 4); ) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1]!;
      if (marker === 0xff) {
        at += 1;
        continue;
      }
      const length = view.getUint16(at + 2);
      // Start-of-frame markers C0–CF, except DHT (C4), JPG (C8) and DAC (CC), carry the size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return has(at + 9) ? { height: view.getUint16(at + 5), width: view.getUint16(at + 7) } : null;
      }
      if (marker === 0xd9 || marker === 0xda || length < 2) return null;
      at += 2 + length;
    }
    return null;
  }
  if (!has(30) || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') return null;
  const chunk = ascii(bytes, 12, 4);
  if (chunk === 'VP8 ') return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) return null;
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { width: 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16)), height: 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16)) };
  return null;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/**
 * Checks a tile against the display it is drawn on and against what its
 * image declares, before anything decodes it: an image file's header must
 * declare the tile's size, a fill is one colour, and deflated pixels are
 * small and no larger than their pixels could need.
 */
export function checkTile(tile: Tile, display: { width: number; height: number }): void {
  if (!insideDisplay(tile, display)) throw new PictureError('outside_display');
  if (tile.format === 'fill') {
    if (tile.image.byteLength !== 3) throw new PictureError('size_mismatch');
    return;
  }
  if (tile.format === 'zlib') {
    const raw = tile.w * tile.h * 3;
    if (tile.w * tile.h > MAX_ZLIB_TILE_PIXELS || tile.image.byteLength > deflateBound(raw)) throw new PictureError('too_large');
    return;
  }
  if (tile.format === 'cached') {
    if (tile.image.byteLength !== 2 || cachedSlot(tile) >= CACHE_SLOTS || tile.w > CACHE_CELL || tile.h > CACHE_CELL) throw new PictureError('malformed');
    return;
  }
  const size = imageSize(tile.format, tile.image);
  if (!size) throw new PictureError('undecodable');
  if (size.width !== tile.w || size.height !== tile.h) throw new PictureError('size_mismatch');
}

/** The slot a `cached` tile draws from. */
export function cachedSlot(tile: Tile): number {
  return tile.image[0]! | (tile.image[1]! << 8);
}

/** The image of a `cached` tile: its slot. */
export function slotImage(slot: number): Uint8Array {
  return new Uint8Array([slot & 0xff, slot >>> 8]);
}

/** The most raw deflate can take for `bytes` bytes: stored blocks of at most 65,535 bytes, 5 bytes of header each. */
function deflateBound(bytes: number): number {
  return bytes + 5 * Math.ceil(bytes / 65_535) + 5;
}

/** Spreads RGB rows (an inflated `zlib` tile) into RGBA, opaque. */
export function rgbToRgba(rgb: Uint8Array, rgba: Uint8Array | Uint8ClampedArray): void {
  for (let i = 0, j = 0; j < rgba.length; i += 3, j += 4) {
    rgba[j] = rgb[i]!;
    rgba[j + 1] = rgb[i + 1]!;
    rgba[j + 2] = rgb[i + 2]!;
    rgba[j + 3] = 255;
  }
}
