import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CACHE_SLOTS, checkTile, decodePicture, encodePicture, fragmentPicture, imageSize, MAX_ZLIB_TILE_PIXELS, PICTURE_FRAGMENT_BYTES, PictureAssembler, PictureError, tileFormats, type PictureMessage, type Tile } from '../src';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const side = fc.integer({ min: 1, max: 8192 });

const tileArbitrary = fc.record({
  x: u16,
  y: u16,
  w: fc.integer({ min: 1, max: 0xffff }),
  h: fc.integer({ min: 1, max: 0xffff }),
  format: fc.constantFrom(...tileFormats),
  image: fc.uint8Array({ minLength: 1, maxLength: 300 }),
});
const message: fc.Arbitrary<PictureMessage> = fc.oneof(
  fc.record({ kind: fc.constant('display' as const), epoch: u32, width: side, height: side }),
  fc.record({ kind: fc.constant('video' as const), epoch: u32, frame: u32, x: u16, y: u16, w: fc.integer({ min: 1, max: 0xffff }), h: fc.integer({ min: 1, max: 0xffff }) }),
  fc.record({ kind: fc.constant('tiles' as const), epoch: u32, frame: u32, last: fc.boolean(), tiles: fc.array(tileArbitrary, { minLength: 1, maxLength: 5 }) }),
  fc.record({
    kind: fc.constant('keep' as const),
    epoch: u32,
    frame: u32,
    cells: fc.array(fc.record({ x: u16, y: u16, w: fc.integer({ min: 1, max: 64 }), h: fc.integer({ min: 1, max: 64 }), slot: fc.integer({ min: 0, max: CACHE_SLOTS - 1 }) }), { minLength: 1, maxLength: 5 }),
  }),
);
/** A tile's image comes back as a view into the message: compare bytes. */
const plain = (m: PictureMessage) => (m.kind === 'tiles' ? { ...m, tiles: m.tiles.map((t) => ({ ...t, image: [...t.image] })) } : m);

/** A PNG header declaring `width` x `height` (what the console reads before decoding). */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  return bytes;
}

describe('picture messages', () => {
  it('round-trip through encodePicture and decodePicture', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(plain(decodePicture(encodePicture(m)))).toEqual(plain(m));
      }),
    );
  });

  it('refuse anything else as malformed, never with another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodePicture(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(PictureError);
          expect((error as PictureError).reason).toBe('malformed');
        }
      }),
    );
    expect(() => decodePicture(encodePicture({ kind: 'display', epoch: 1, width: 9000, height: 10 }))).toThrow('malformed');
    const tiles = encodePicture({ kind: 'tiles', epoch: 1, frame: 1, last: true, tiles: [{ x: 0, y: 0, w: 4, h: 4, format: 'png', image: new Uint8Array([1, 2]) }] });
    // Cut short, with a byte too many, or declaring more tiles than it holds.
    expect(() => decodePicture(tiles.subarray(0, tiles.byteLength - 1))).toThrow('malformed');
    expect(() => decodePicture(new Uint8Array([...tiles, 0]))).toThrow('malformed');
    const more = new Uint8Array(tiles);
    more[10] = 2;
    expect(() => decodePicture(more)).toThrow('malformed');
    // Cells the cache cannot hold: empty, larger than a cell, or a slot past the cache's end.
    const keep = (cell: { w: number; h: number; slot: number }) => encodePicture({ kind: 'keep', epoch: 1, frame: 1, cells: [{ x: 0, y: 0, ...cell }] });
    expect(() => decodePicture(keep({ w: 64, h: 64, slot: CACHE_SLOTS - 1 }))).not.toThrow();
    for (const cell of [{ w: 0, h: 64, slot: 0 }, { w: 65, h: 64, slot: 0 }, { w: 64, h: 64, slot: CACHE_SLOTS }]) expect(() => decodePicture(keep(cell))).toThrow('malformed');
    expect(() => decodePicture(keep({ w: 64, h: 64, slot: 0 }).subarray(0, 20))).toThrow('malformed');
  });

  it('travel as fragments no larger than a data-channel message and assemble back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 4 }), (sizes) => {
        const assembler = new PictureAssembler();
        for (const size of sizes) {
          const whole = Uint8Array.from({ length: size }, (_, i) => i % 251);
          const fragments = fragmentPicture(whole);
          expect(fragments.every((f) => f.byteLength <= PICTURE_FRAGMENT_BYTES)).toBe(true);
          const out = fragments.map((f) => assembler.push(f));
          expect(out.slice(0, -1).every((o) => o === null)).toBe(true);
          expect(Buffer.from(out.at(-1)!).equals(whole)).toBe(true);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('drop a message that grows past the limit, with the rest of its fragments, and go on', () => {
    const assembler = new PictureAssembler(100_000);
    const big = fragmentPicture(new Uint8Array(300_000));
    const errors: string[] = [];
    for (const fragment of big) {
      try {
        expect(assembler.push(fragment)).toBeNull();
      } catch (error) {
        errors.push((error as PictureError).reason);
      }
    }
    expect(errors).toEqual(['too_large']);
    const small = new Uint8Array([1, 2, 3]);
    expect(assembler.push(fragmentPicture(small)[0]!)).toEqual(small);
  });
});

describe('tile checks before decoding', () => {
  const display = { width: 1920, height: 1080 };
  const tile = (x: number, y: number, w: number, h: number, image: Uint8Array, format: Tile['format'] = 'png'): Tile => ({ x, y, w, h, format, image });

  it('refuse a tile outside the display', () => {
    expect(() => checkTile(tile(1900, 0, 64, 64, pngHeader(64, 64)), display)).toThrow('outside display');
    expect(() => checkTile(tile(0, 1050, 64, 64, pngHeader(64, 64)), display)).toThrow('outside display');
    expect(() => checkTile(tile(1856, 1016, 64, 64, pngHeader(64, 64)), display)).not.toThrow();
  });

  it('refuse an image that declares another size than its tile: no small file unpacks into a huge bitmap', () => {
    expect(() => checkTile(tile(0, 0, 64, 64, pngHeader(60000, 60000)), display)).toThrow('size mismatch');
    expect(() => checkTile(tile(0, 0, 64, 64, new Uint8Array([1, 2, 3])), display)).toThrow('undecodable');
  });

  it('refuse a fill that is not one colour, and deflated pixels too many or too long to be honest', () => {
    expect(() => checkTile(tile(0, 0, 64, 64, new Uint8Array([1, 2, 3]), 'fill'), display)).not.toThrow();
    expect(() => checkTile(tile(0, 0, 64, 64, new Uint8Array([1, 2, 3, 4]), 'fill'), display)).toThrow('size mismatch');
    expect(() => checkTile(tile(0, 0, 64, 64, new Uint8Array(100), 'zlib'), display)).not.toThrow();
    // More pixels than a deflated tile may have: a large area goes as an image file the console can size before decoding.
    expect(MAX_ZLIB_TILE_PIXELS).toBeLessThan(1920 * 1080);
    expect(() => checkTile(tile(0, 0, 1024, 1024, new Uint8Array(100), 'zlib'), display)).toThrow('too large');
    // Longer than even stored (uncompressed) deflate of 64x64 RGB could be.
    expect(() => checkTile(tile(0, 0, 64, 64, new Uint8Array(64 * 64 * 3 + 64), 'zlib'), display)).toThrow('too large');
  });

  it('refuse a cached tile that does not name one slot of a cell', () => {
    const slot = (n: number) => new Uint8Array([n & 0xff, n >>> 8]);
    expect(() => checkTile(tile(64, 64, 64, 64, slot(CACHE_SLOTS - 1), 'cached'), display)).not.toThrow();
    expect(() => checkTile(tile(64, 64, 64, 64, slot(CACHE_SLOTS), 'cached'), display)).toThrow('malformed');
    expect(() => checkTile(tile(64, 64, 64, 64, new Uint8Array([1, 0, 0]), 'cached'), display)).toThrow('malformed');
    expect(() => checkTile(tile(0, 0, 128, 64, slot(1), 'cached'), display)).toThrow('malformed');
  });

  it('read the size of JPEG and WebP headers', () => {
    // SOI, an APP0 segment, then SOF0 with height 270 and width 480.
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x01, 0x0e, 0x01, 0xe0, 3, 0, 0, 0]);
    expect(imageSize('jpeg', jpeg)).toEqual({ width: 480, height: 270 });
    const lossless = new Uint8Array(30);
    lossless.set([...'RIFF'].map((c) => c.charCodeAt(0)), 0);
    lossless.set([...'WEBPVP8L'].map((c) => c.charCodeAt(0)), 8);
    lossless[20] = 0x2f;
    new DataView(lossless.buffer).setUint32(21, (640 - 1) | ((360 - 1) << 14), true);
    expect(imageSize('webp', lossless)).toEqual({ width: 640, height: 360 });
    expect(imageSize('jpeg', new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeNull();
  });
});
