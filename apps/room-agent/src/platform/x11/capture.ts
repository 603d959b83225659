import { Monitor as ScreenMonitor } from 'node-screenshots';
import type { DamageExt, XDisplay, XEvent } from 'x11';
import type { Rect } from '@roomlink/shared';
import type { Capture, Displays, Frame, Monitor } from '../../core/platform';
import { imageReader, type ImageReader } from './image-reader';
import { unionRect } from '../../core/picture/tile-grid';
import type { XConnection } from './xconnection';

export const x11Displays: Displays = {
  list: async () =>
    ScreenMonitor.all().map((m) => ({ id: String(m.id()), name: m.name(), primary: m.isPrimary(), x: m.x(), y: m.y(), width: m.width(), height: m.height() })),
};

/** What DAMAGE says has been drawn on a monitor since its last grab. */
interface MonitorDamage {
  monitor: Monitor;
  /** Monitor-relative; everything when the monitor was never grabbed. */
  dirty: Rect | null;
}

/**
 * Capture woken by X DAMAGE, reading back only what was drawn: the X server
 * reports each drawn rectangle, and a grab fetches (GetImage, through shared
 * memory where the server allows) just their bounding box, handed on as the
 * server wrote it. A static screen costs no capture at all, a typed
 * character costs a few kilobytes, and a full 1080p repaint costs one 8 MB
 * read (2.5 ms here through MIT-SHM, 8.9 ms through the X socket, ~35 ms
 * through node-screenshots, which still lists the monitors).
 */
export class X11Capture implements Capture {
  private readonly watchers = new Set<{ monitor: Monitor; changed: () => void }>();
  private damageExt: { ext: DamageExt; id: number } | null = null;
  private readonly damage = new Map<string, MonitorDamage>();
  private reader: ImageReader | null = null;

  constructor(private readonly x: XConnection) {}

  /** Starts listening for DAMAGE on the root window; it covers every window drawn on the screen. */
  async init(): Promise<void> {
    assertTrueColour(this.x.display);
    this.reader = await imageReader(this.x);
    const ext = await this.x.damage();
    const id = this.x.display.client.AllocID();
    // Raw rectangles need no Subtract round trips, so no drawing can slip between a report and its reset.
    ext.Create(id, this.x.root, ext.ReportLevel.RawRectangles);
    this.damageExt = { ext, id };
    this.x.display.client.on('event', (event: XEvent) => {
      if (event.name === 'DamageNotify' && event.damage === id && event.area) this.damaged(event.area);
    });
    await this.x.sync();
  }

  async close(): Promise<void> {
    if (this.damageExt) this.damageExt.ext.Destroy(this.damageExt.id);
    this.damageExt = null;
    this.reader?.close();
    this.reader = null;
    this.watchers.clear();
    this.damage.clear();
  }

  /** How grabs read pixels; null before init. */
  get reading(): ImageReader['kind'] | null {
    return this.reader?.kind ?? null;
  }

  async grab(monitor: Monitor, whole: boolean): Promise<Frame> {
    const damage = this.damageOf(monitor);
    const area = whole ? { x: 0, y: 0, w: monitor.width, h: monitor.height } : damage.dirty;
    damage.dirty = null;
    if (!area) return { width: monitor.width, height: monitor.height, area: null, data: new Uint8Array(0) };
    try {
      if (!this.reader) throw new Error('X11Capture.grab before init');
      const data = await this.reader.read(monitor.id, monitor.x + area.x, monitor.y + area.y, area.w, area.h);
      return { width: monitor.width, height: monitor.height, area, data };
    } catch (error) {
      damage.dirty = unionRect(damage.dirty, area);
      throw error;
    }
  }

  watch(monitor: Monitor, changed: () => void): () => void {
    const watcher = { monitor, changed };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private damageOf(monitor: Monitor): MonitorDamage {
    const known = this.damage.get(monitor.id);
    if (known && known.monitor.width === monitor.width && known.monitor.height === monitor.height && known.monitor.x === monitor.x && known.monitor.y === monitor.y) return known;
    const damage = { monitor, dirty: { x: 0, y: 0, w: monitor.width, h: monitor.height } };
    this.damage.set(monitor.id, damage);
    return damage;
  }

  private damaged(area: Rect): void {
    for (const damage of this.damage.values()) {
      const part = clipToMonitor(area, damage.monitor);
      if (part) damage.dirty = unionRect(damage.dirty, part);
    }
    for (const { monitor, changed } of this.watchers) if (clipToMonitor(area, monitor)) changed();
  }

}

/** The part of a root-window rectangle on `monitor`, relative to the monitor; null when they do not meet. */
function clipToMonitor(area: Rect, monitor: Monitor): Rect | null {
  const left = Math.max(area.x, monitor.x);
  const top = Math.max(area.y, monitor.y);
  const right = Math.min(area.x + area.w, monitor.x + monitor.width);
  const bottom = Math.min(area.y + area.h, monitor.y + monitor.height);
  return right > left && bottom > top ? { x: left - monitor.x, y: top - monitor.y, w: right - left, h: bottom - top } : null;
}

/** The pixel layout the core takes (see `Frame`): 24-bit colour in 32-bit little-endian pixels, as every x86 X server has it. */
function assertTrueColour(display: XDisplay): void {
  const screen = display.screen[0]!;
  const visual = Object.values(screen.depths[screen.root_depth] ?? {}).find((v) => v.red_mask === 0xff0000 && v.green_mask === 0xff00 && v.blue_mask === 0xff);
  const format = display.format[screen.root_depth];
  if (!visual || format?.bits_per_pixel !== 32 || display.image_byte_order !== 0) {
    throw new Error(`Unsupported X screen format (depth ${screen.root_depth}, ${format?.bits_per_pixel ?? '?'} bits per pixel): Roomlink captures 24-bit colour in 32-bit pixels.`);
  }
}
