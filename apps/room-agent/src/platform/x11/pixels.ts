export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A monitor's pixels as the X server sent them (B, G, R, pad) and as the encoder takes them (RGBA). */
export interface MonitorPixels {
  width: number;
  bgrx: Uint8Array;
  rgba: Uint8Array;
  /** False until the first patch: then every row counts as changed, whatever the zeroed buffer holds. */
  filled: boolean;
}

export function monitorPixels(width: number, height: number): MonitorPixels {
  return { width, bgrx: new Uint8Array(width * height * 4), rgba: new Uint8Array(width * height * 4), filled: false };
}

/**
 * Writes an X image (ZPixmap, 32-bit little-endian pixels: B, G, R, pad) of
 * `area` into the monitor's pixels and says whether any pixel differed. Rows
 * are compared as the server sent them (memcmp) and only changed rows are
 * converted, so a repaint that changed nothing costs no conversion and no
 * encode.
 */
export function patchPixels(pixels: MonitorPixels, area: Rect, image: Uint8Array): boolean {
  const rowBytes = area.w * 4;
  if (image.byteLength < rowBytes * area.h) throw new Error(`X image of ${image.byteLength} bytes is too short for ${area.w}x${area.h}.`);
  const incoming = Buffer.from(image.buffer, image.byteOffset, rowBytes * area.h);
  const known = Buffer.from(pixels.bgrx.buffer, pixels.bgrx.byteOffset, pixels.bgrx.byteLength);
  const rgba = new Uint32Array(pixels.rgba.buffer, pixels.rgba.byteOffset, pixels.rgba.byteLength / 4);
  const bgrx = new Uint32Array(pixels.bgrx.buffer, pixels.bgrx.byteOffset, pixels.bgrx.byteLength / 4);
  let changed = false;
  for (let row = 0; row < area.h; row++) {
    const at = (area.y + row) * pixels.width + area.x;
    const source = incoming.subarray(row * rowBytes, (row + 1) * rowBytes);
    if (pixels.filled && source.equals(known.subarray(at * 4, at * 4 + rowBytes))) continue;
    changed = true;
    // Copied first: the aligned copy is what the Uint32 view reads.
    known.set(source, at * 4);
    for (let i = at, end = at + area.w; i < end; i++) {
      const v = bgrx[i]!;
      // Little-endian RGBA is 0xAABBGGRR: swap the red and blue bytes, make it opaque.
      rgba[i] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff);
    }
  }
  pixels.filled = true;
  return changed;
}
