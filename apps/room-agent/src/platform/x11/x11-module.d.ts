/**
 * The part of the pure-JS `x11` package (no types of its own) that the x11
 * adapter uses: core requests, and the DAMAGE and SHAPE extensions.
 */
declare module 'x11' {
  import type { EventEmitter } from 'node:events';

  export interface XScreen {
    root: number;
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

  export interface XClient extends EventEmitter {
    AllocID(): number;
    CreateWindow(id: number, parent: number, x: number, y: number, width: number, height: number, borderWidth: number, depth: number, klass: number, visual: number, values: WindowValues): void;
    ChangeWindowAttributes(id: number, values: WindowValues): void;
    MapWindow(id: number): void;
    UnmapWindow(id: number): void;
    DestroyWindow(id: number): void;
    RaiseWindow(id: number): void;
    InternAtom(onlyIfExists: boolean, name: string, callback: (error: Error | null, atom: number) => void): void;
    require(name: 'damage', callback: (error: Error | null, ext: DamageExt) => void): void;
    require(name: 'shape', callback: (error: Error | null, ext: ShapeExt) => void): void;
    sync(callback: (error: Error | null) => void): void;
    close(callback?: () => void): void;
  }

  export interface XDisplay {
    client: XClient;
    screen: XScreen[];
  }

  export function createClient(options: { display?: string }, callback: (error: Error | null, display: XDisplay) => void): XClient;
  export const eventMask: Record<'SubstructureNotify' | 'StructureNotify' | 'Exposure', number>;
}
