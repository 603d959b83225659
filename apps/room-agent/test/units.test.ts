import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '@roomlink/shared';
import { MALLOC_TUNABLES, tunedEnvironment } from '../src/allocator';
import { nameDisplays, parseDisplayMapping } from '../src/core/displays';
import { libnutKey } from '../src/core/key-names';
import { MotionTracker } from '../src/core/picture/motion';
import { cellHashes, TileCache, type CellPixels } from '../src/core/picture/tile-cache';
import { raiseVideoBitrate } from '../src/core/sdp-bitrate';
import { diffInto, TileGrid, unionRect } from '../src/core/picture/tile-grid';
import { aligned } from '../src/platform/x11/image-reader';
import { pickPlatform } from '../src/run';

const monitor = (name: string, x: number, primary = false) => ({ id: name, name, primary, x, y: 0, width: 1920, height: 1080 });

describe('display roles', () => {
  it('names the primary monitor Console and the others front of room, left to right', () => {
    const named = nameDisplays([monitor('B', 3840), monitor('A', 1920), monitor('P', 0, true)]);
    expect(named.map((d) => [d.info.id, d.monitor.name])).toEqual([
      ['console', 'P'],
      ['frontOfRoom1', 'A'],
      ['frontOfRoom2', 'B'],
    ]);
  });

  it('follows a configured mapping and labels extra monitors by name', () => {
    const named = nameDisplays([monitor('P', 0, true), monitor('A', 1920), monitor('B', 3840), monitor('C', 5760)], parseDisplayMapping('console=B, frontOfRoom2=P'));
    expect(named.map((d) => [d.info.label, d.monitor.name])).toEqual([
      ['Console', 'B'],
      ['Front of Room 1', 'A'],
      ['Front of Room 2', 'P'],
      ['C', 'C'],
    ]);
  });

  it('refuses a mapping with an unknown role', () => {
    expect(() => parseDisplayMapping('projector=DUMMY0')).toThrow(/role=monitor/);
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelay(40, 500, 30_000, () => 1)).toBe(30_000);
    expect(reconnectDelay(40, 500, 30_000, () => 0)).toBe(15_000);
  });
});

describe('key names', () => {
  it('maps physical keys, never characters', () => {
    expect(['KeyA', 'Digit1', 'Minus', 'Quote', 'F12', 'Numpad5', 'MetaLeft', 'ArrowUp'].map(libnutKey)).toEqual(['a', '1', '-', "'", 'f12', 'numpad_5', 'meta', 'up']);
    expect(libnutKey('Exclamation')).toBeNull();
    expect(libnutKey('F25')).toBeNull();
  });
});

describe('video bitrate in the SDP', () => {
  const sdp = ['v=0', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98', 'c=IN IP4 0.0.0.0', 'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=rtpmap:98 VP9/90000', 'a=fmtp:98 profile-id=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', ''].join('\r\n');

  it('sets b=AS on the video section and x-google bitrates on every video codec, not on rtx', () => {
    const out = raiseVideoBitrate(sdp, 8000, 4000).split('\r\n');
    const video = out.slice(out.indexOf('m=video 9 UDP/TLS/RTP/SAVPF 96 97 98'), out.findIndex((l) => l.startsWith('m=application')));
    expect(video).toContain('b=AS:8000');
    expect(video).toContain('a=fmtp:98 profile-id=0;x-google-max-bitrate=8000;x-google-min-bitrate=300;x-google-start-bitrate=4000');
    expect(video).toContain('a=fmtp:96 x-google-max-bitrate=8000;x-google-min-bitrate=300;x-google-start-bitrate=4000');
    expect(video).toContain('a=fmtp:97 apt=96');
    expect(out.filter((l) => l.startsWith('b=AS'))).toHaveLength(1);
    expect(out.at(-1)).toBe('');
  });

  it('is idempotent', () => {
    const once = raiseVideoBitrate(sdp, 8000, 4000);
    expect(raiseVideoBitrate(once, 8000, 4000)).toBe(once);
  });
});

describe('platform choice', () => {
  it('auto picks x11 with a display, windows on win32, synthetic otherwise', () => {
    expect(pickPlatform('auto', { DISPLAY: ':0' }, 'linux')).toBe('x11');
    expect(pickPlatform('auto', {}, 'linux')).toBe('synthetic');
    expect(pickPlatform('auto', {}, 'win32')).toBe('windows');
    expect(pickPlatform('synthetic', { DISPLAY: ':0' }, 'linux')).toBe('synthetic');
  });
});

describe('the allocator the agent runs with', () => {
  it('asks glibc to keep large blocks, beside tunables already set, and leaves an operator’s malloc settings alone', () => {
    const glibc = () => true;
    expect(tunedEnvironment({ PATH: '/bin' }, glibc)).toEqual({ PATH: '/bin', GLIBC_TUNABLES: MALLOC_TUNABLES });
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' }, glibc)?.GLIBC_TUNABLES).toBe(`glibc.pthread.rseq=0:${MALLOC_TUNABLES}`);
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, glibc)).toBeNull();
    expect(tunedEnvironment({ GLIBC_TUNABLES: MALLOC_TUNABLES }, glibc)).toBeNull();
    expect(tunedEnvironment({}, () => false)).toBeNull();
  });
});

describe('a captured area against the picture the console has', () => {
  // A 200x100 display of one colour, as B, G, R, X words.
  const display = () => new Uint32Array(200 * 100).fill(0x00336699);
  const bytes = (words: Uint32Array) => new Uint8Array(words.buffer);

  it('marks the tiles where the area differs, copies it in, and boxes a small change exactly', () => {
    const reference = display();
    // The area straddles tiles 0 and 1 of the first row; one pixel at (70, 10) changes.
    const area = { x: 60, y: 5, w: 20, h: 10 };
    const current = new Uint32Array(20 * 10).fill(0x00336699);
    current[5 * 20 + 10] = 0x00ff0000;
    const changed = new TileGrid(200, 100);
    const bounds = diffInto(changed, bytes(reference), bytes(current), area);
    expect([...changed.marks.entries()].filter(([, m]) => m).map(([i]) => i)).toEqual([1]);
    expect(bounds?.get(1)).toEqual([{ x: 70, y: 10, w: 1, h: 1 }]);
    expect(reference[10 * 200 + 70]).toBe(0x00ff0000);
    expect(reference[10 * 200 + 69]).toBe(0x00336699);
    // The same pixels again are no change.
    const again = new TileGrid(200, 100);
    diffInto(again, bytes(reference), bytes(current), area);
    expect(again.any).toBe(false);
  });

  it('sends a large change as whole tiles', () => {
    const changed = new TileGrid(200, 100);
    const bounds = diffInto(changed, bytes(display()), bytes(new Uint32Array(200 * 100).fill(0x00ffffff)), { x: 0, y: 0, w: 200, h: 100 });
    expect(changed.count).toBe(8);
    expect(bounds).not.toBeNull();
    const wide = new TileGrid(300, 200);
    expect(diffInto(wide, bytes(new Uint32Array(300 * 200)), bytes(new Uint32Array(300 * 200).fill(1)), { x: 0, y: 0, w: 300, h: 200 })).toBeNull();
    expect(wide.count).toBe(20);
  });

  it('refuses an area outside the display or pixels too few for it', () => {
    expect(() => diffInto(new TileGrid(200, 100), bytes(display()), new Uint8Array(40 * 4), { x: 190, y: 0, w: 20, h: 2 })).toThrow(/outside/);
    expect(() => diffInto(new TileGrid(200, 100), bytes(display()), new Uint8Array(4), { x: 0, y: 0, w: 2, h: 2 })).toThrow(/too few/);
  });

  it('takes an X image that does not start on a 4-byte boundary as a copy that does', () => {
    const image = new Uint8Array(9).subarray(1);
    image.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const copy = aligned(image);
    expect(copy.byteOffset % 4).toBe(0);
    expect([...copy]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const fine = new Uint8Array(8);
    expect(aligned(fine)).toBe(fine);
  });

  it('grows a damaged area to cover every rectangle reported', () => {
    expect(unionRect(null, { x: 5, y: 5, w: 1, h: 1 })).toEqual({ x: 5, y: 5, w: 1, h: 1 });
    expect(unionRect({ x: 5, y: 5, w: 10, h: 2 }, { x: 1, y: 6, w: 2, h: 8 })).toEqual({ x: 1, y: 5, w: 14, h: 9 });
  });
});

describe('motion', () => {
  const display = { width: 1920, height: 1080 };
  const canvas = { x: 1240, y: 40, w: 640, h: 360 };
  /** Feeds the tracker one frame every `everyMs` for `forMs`, and returns the region at the end. */
  function animate(tracker: MotionTracker, from: number, everyMs: number, forMs: number, bounds = canvas, tiles = 60) {
    let region = null;
    for (let t = from; t <= from + forMs; t += everyMs) region = tracker.observe(bounds, tiles, t);
    return region;
  }

  it('turns an animation into a tile-aligned region after it has lasted, at 30 fps or at 5', () => {
    for (const everyMs of [33, 200]) {
      const tracker = new MotionTracker(display);
      expect(animate(tracker, 0, everyMs, 200)).toBeNull();
      expect(animate(tracker, 200 + everyMs, everyMs, 400)).toEqual({ x: 1216, y: 0, w: 704, h: 448 });
    }
  });

  it('never turns typing into video, however fast the app repaints a large area', () => {
    const tracker = new MotionTracker(display);
    for (let t = 0; t < 3000; t += 100) {
      tracker.input(t);
      expect(tracker.observe(canvas, 60, t + 40)).toBeNull();
    }
  });

  it('ignores small changes and changes that pause longer than a slow video would', () => {
    const tracker = new MotionTracker(display);
    expect(animate(tracker, 0, 33, 2000, { x: 100, y: 100, w: 10, h: 20 }, 1)).toBeNull();
    expect(animate(tracker, 3000, 400, 4000)).toBeNull();
  });

  it('follows a video into its window once the repaint that opened the window is half a second past', () => {
    const tracker = new MotionTracker(display);
    // The window opens (the whole screen repaints), and its video starts in the same moment.
    tracker.observe({ x: 0, y: 0, w: 1920, h: 1080 }, 8000, 0);
    const opening = animate(tracker, 33, 33, 400)!;
    expect(opening).toEqual({ x: 0, y: 0, w: 1920, h: 1080 });
    expect(animate(tracker, 466, 33, 300)).toEqual({ x: 1216, y: 0, w: 704, h: 448 });
  });

  it('keeps the region while it moves, grows it as it moves, and ends it once still', () => {
    const tracker = new MotionTracker(display);
    const region = animate(tracker, 0, 33, 600)!;
    expect(tracker.observe({ x: 1300, y: 100, w: 64, h: 64 }, 6, 650)).toBe(region);
    const grown = animate(tracker, 700, 33, 300, { ...canvas, y: 300 })!;
    expect(grown).toEqual({ x: 1216, y: 0, w: 704, h: 704 });
    expect(tracker.observe(null, 0, 1100)).toBe(grown);
    expect(tracker.observe(null, 0, 1500)).toBeNull();
  });
});

describe('the tile cache, the room’s half', () => {
  const picture = (colour: (i: number) => number) => Uint32Array.from({ length: 128 * 64 }, (_, i) => colour(i));
  const cell = (words: Uint32Array, x: number) => ({ words, width: 128, cell: { x, y: 0, w: 64, h: 64 } });
  const hash = ({ words, width, cell }: CellPixels) => {
    const grid = new TileGrid(width, words.length / width);
    grid.mark(cell);
    return cellHashes(words, grid)[grid.indices(cell)[0]!]!;
  };

  it('finds a kept cell by its pixels, and never another cell that hashes alike', () => {
    const cache = new TileCache(4);
    const a = cell(picture((i) => i), 0);
    const b = cell(picture((i) => i), 64);
    const slot = cache.keep(a, hash(a));
    expect(cache.find(a, hash(a))).toBe(slot);
    // A collision, made by hand: same hash, other pixels.
    expect(cache.find(b, hash(a))).toBeUndefined();
    // The same pixels elsewhere in another picture are the same cell.
    const moved = cell(picture((i) => ((i % 128) >= 64 ? i - 64 : 0)), 64);
    expect(cache.find(moved, hash(moved))).toBe(slot);
  });

  it('hashes every marked cell of a picture in one walk, each as it would alone, and leaves the others 0', () => {
    // 150x70: cells of 64, 64 and 22 wide, the second row 6 high.
    const words = Uint32Array.from({ length: 150 * 70 }, (_, i) => (i * 2654435761) >>> 0);
    const grid = new TileGrid(150, 70);
    grid.markAll();
    grid.marks[1] = 0;
    const all = cellHashes(words, grid);
    expect(all[1]).toBe(0);
    for (const index of [0, 2, 3, 4, 5]) {
      const one = new TileGrid(150, 70);
      one.marks[index] = 1;
      expect(cellHashes(words, one)[index]).toBe(all[index]);
    }
    expect(new Set([0, 2, 3, 4, 5].map((i) => all[i])).size).toBe(5);
  });

  it('reuses the least recently used slot once full, and forgets everything when cleared', () => {
    const cache = new TileCache(2);
    const cells = [1, 2, 3].map((n) => cell(picture(() => n), 0));
    const [one, two] = cells.slice(0, 2).map((c) => cache.keep(c, hash(c)));
    expect(cache.find(cells[0]!, hash(cells[0]!))).toBe(one);
    // Two was used longest ago: three takes its slot.
    expect(cache.keep(cells[2]!, hash(cells[2]!))).toBe(two);
    expect(cache.find(cells[1]!, hash(cells[1]!))).toBeUndefined();
    expect(cache.find(cells[0]!, hash(cells[0]!))).toBe(one);
    cache.clear();
    expect(cache.find(cells[0]!, hash(cells[0]!))).toBeUndefined();
    expect(cache.keep(cells[1]!, hash(cells[1]!))).toBe(0);
  });
});
