import { Monitor as ScreenMonitor } from 'node-screenshots';
import type { DamageExt, XEvent } from 'x11';
import type { Capture, Displays, Frame, Monitor } from '../../core/platform';
import type { XConnection } from './xconnection';

export const x11Displays: Displays = {
  list: async () =>
    ScreenMonitor.all().map((m) => ({ id: String(m.id()), name: m.name(), primary: m.isPrimary(), x: m.x(), y: m.y(), width: m.width(), height: m.height() })),
};

interface Watcher {
  monitor: Monitor;
  changed: () => void;
}

/**
 * Capture with node-screenshots, one monitor at a time, woken by X DAMAGE:
 * the X server tells us which rectangles were drawn to, so a static screen
 * costs no captures at all (polling full frames would cost a core's fraction
 * per frame in this process and in the X server).
 */
export class X11Capture implements Capture {
  private readonly watchers = new Set<Watcher>();
  private damage: { ext: DamageExt; id: number } | null = null;
  private readonly screens = new Map<string, ScreenMonitor>();

  constructor(private readonly x: XConnection) {}

  /** Starts listening for DAMAGE on the root window; it covers every window drawn on the screen. */
  async init(): Promise<void> {
    const ext = await this.x.damage();
    const id = this.x.display.client.AllocID();
    // Raw rectangles need no Subtract round trips, so no drawing can slip between a report and its reset.
    ext.Create(id, this.x.root, ext.ReportLevel.RawRectangles);
    this.damage = { ext, id };
    this.x.display.client.on('event', (event: XEvent) => {
      if (event.name === 'DamageNotify' && event.damage === id && event.area) this.damaged(event.area);
    });
    await this.x.sync();
  }

  async close(): Promise<void> {
    if (this.damage) this.damage.ext.Destroy(this.damage.id);
    this.damage = null;
    this.watchers.clear();
  }

  async grab(monitor: Monitor): Promise<Frame> {
    // Listing monitors asks the X server for its outputs: done once per monitor, not per frame.
    let screen = this.screens.get(monitor.id);
    if (!screen) {
      screen = ScreenMonitor.all().find((m) => String(m.id()) === monitor.id);
      if (!screen) throw new Error(`Monitor ${monitor.name} is gone.`);
      this.screens.set(monitor.id, screen);
    }
    const image = await screen.captureImage().catch((error: unknown) => {
      this.screens.delete(monitor.id);
      throw error;
    });
    return { width: image.width, height: image.height, data: await image.toRaw() };
  }

  watch(monitor: Monitor, changed: () => void): () => void {
    const watcher = { monitor, changed };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private damaged(area: { x: number; y: number; w: number; h: number }): void {
    for (const { monitor, changed } of this.watchers) {
      if (area.x < monitor.x + monitor.width && area.x + area.w > monitor.x && area.y < monitor.y + monitor.height && area.y + area.h > monitor.y) changed();
    }
  }
}
