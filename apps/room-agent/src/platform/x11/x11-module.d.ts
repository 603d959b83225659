/**
 * The part of the pure-JS `x11` package (no types of its own) that the x11
 * adapter uses: core requests (GetImage among them), and the DAMAGE, SHAPE and
 * MIT-SHM extensions.
 */
declare module 'x11' {
  import type { EventEmitter } from 'node:events';

  export interface XVisual {
    class: number;
    red_mask: number;
    green_mask: number;
    blue_mask: number;
  }

  export interface XScreen {
    root: number;
    depths: Record<number, Record<number, XVisual>>;
    white_pixel: number;
    black_pixel: number;
    root_depth: number;
    root_visual: number;
    pixel_width: number;
    pixel_height: number;
  }

  export interface XEvent {
    name: string;
    type: number;
    wid?: number;
    window?: number;
    drawable?: number;
    damage?: number;
    area?: { x: number; y: number; w: number; h: number };
  }

  export interface WindowValues {
    backgroundPixel?: number;
    overrideRedirect?: number;
    eventMask?: number;
  }

  export interface DamageExt {
    ReportLevel: { RawRectangles: number; DeltaRectangles: number; BoundingBox: number; NonEmpty: number };
    Create(damage: number, drawable: number, level: number): void;
    Destroy(damage: number): void;
    Subtract(damage: number, repair: number, parts: number): void;
  }

  export interface ShapeExt {
    Kind: { Bounding: number; Clip: number; Input: number };
    Op: { Set: number; Union: number; Intersect: number; Subtract: number; Invert: number };
    Rectangles(op: number, kind: number, window: number, x: number, y: number, rectangles: [number, number, number, number][]): void;
  }

  /** A shared-memory segment: an unlinked /dev/shm file the server maps, which the client reads with pread. */
  export interface ShmSegment {
    size: number;
    /** Where `getImage` copies the pixels; overwritten by the next one. */
    buffer: Buffer;
    getImage(drawable: number, x: number, y: number, width: number, height: number, planeMask: number, format: number, offset: number, callback: (error: Error | null, reply: { depth: number; visual: number; size: number }) => void): void;
    detach(callback?: () => void): void;
  }

  export interface ShmExt {
    ImageFormat: { XYPixmap: number; ZPixmap: number };
    /** Whether a segment really attaches (a remote or sandboxed server may refuse it); false means use core requests. */
    usable(callback: (error: Error | null, usable: boolean) => void): void;
    createSegment(size: number, callback: (error: Error | null, segment: ShmSegment) => void): void;
  }

  export interface XClient extends EventEmitter {
    AllocID(): number;
    CreateWindow(id: number, parent: number, x: number, y: number, width: number, height: number, borderWidth: number, depth: number, klass: number, visual: number, values: WindowValues): void;
    ChangeWindowAttributes(id: number, values: WindowValues): void;
    MapWindow(id: number): void;
    UnmapWindow(id: number): void;
    DestroyWindow(id: number): void;
    RaiseWindow(id: number): void;
    /** Repaints a window's background; `width`/`height` 0 mean to the window's edge. */
    ClearArea(id: number, x: number, y: number, width: number, height: number, exposures: number): void;
    /** `data` holds the pixels in the server's image format, rows padded to its scanline pad. */
    GetImage(format: number, drawable: number, x: number, y: number, width: number, height: number, planeMask: number, callback: (error: Error | null, image: { depth: number; visualId: number; data: Buffer }) => void): void;
    InternAtom(onlyIfExists: boolean, name: string, callback: (error: Error | null, atom: number) => void): void;
    require(name: 'damage', callback: (error: Error | null, ext: DamageExt) => void): void;
    require(name: 'shape', callback: (error: Error | null, ext: ShapeExt) => void): void;
    require(name: 'shm', callback: (error: Error | null, ext: ShmExt) => void): void;
    sync(callback: (error: Error | null) => void): void;
    close(callback?: () => void): void;
  }

  export interface XDisplay {
    client: XClient;
    screen: XScreen[];
    /** 0 LSBFirst, 1 MSBFirst. */
    image_byte_order: number;
    format: Record<number, { bits_per_pixel: number; scanline_pad: number }>;
  }

  export interface ClientOptions {
    display?: string;
    /** false: no MIT-SHM segments, core requests only. */
    shm?: false;
  }

  export function createClient(options: ClientOptions, callback: (error: Error | null, display: XDisplay) => void): XClient;
  export const eventMask: Record<'SubstructureNotify' | 'StructureNotify' | 'Exposure', number>;
}
