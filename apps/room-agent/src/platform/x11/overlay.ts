import x11, { type XEvent } from 'x11';
import type { Monitor, Overlay } from '../../core/platform';
import type { XConnection } from './xconnection';

/** Ring thickness in pixels: visible across a meeting room, narrow enough not to hide content. */
export const RING_PX = 12;
/** Pure red in a 24-bit TrueColor visual. */
const RED = 0xff0000;

/**
 * The red ring on X: one override-redirect window per monitor, shaped to the
 * four edge strips, with an empty input shape so clicks reach what is under
 * it. Any window mapped or restacked later is answered by raising the ring
 * again, so nothing covers it.
 */
export class X11Overlay implements Overlay {
  private windows: number[] = [];
  private raiseQueued = false;
  private readonly listener = (event: XEvent) => this.onEvent(event);

  constructor(private readonly x: XConnection) {}

  async show(monitors: readonly Monitor[]): Promise<void> {
    if (this.windows.length > 0) return;
    const X = this.x.display.client;
    const shape = await this.x.shape();
    X.ChangeWindowAttributes(this.x.root, { eventMask: x11.eventMask.SubstructureNotify });
    X.on('event', this.listener);
    for (const m of monitors) {
      const id = X.AllocID();
      X.CreateWindow(id, this.x.root, m.x, m.y, m.width, m.height, 0, 0, 0, 0, { backgroundPixel: RED, overrideRedirect: 1 });
      const t = Math.min(RING_PX, Math.floor(Math.min(m.width, m.height) / 4));
      shape.Rectangles(shape.Op.Set, shape.Kind.Bounding, id, 0, 0, [
        [0, 0, m.width, t],
        [0, m.height - t, m.width, t],
        [0, t, t, m.height - 2 * t],
        [m.width - t, t, t, m.height - 2 * t],
      ]);
      shape.Rectangles(shape.Op.Set, shape.Kind.Input, id, 0, 0, []);
      X.MapWindow(id);
      X.RaiseWindow(id);
      this.windows.push(id);
    }
    // Mapped and painted by the server before anyone may capture (rule 8).
    await this.x.sync();
  }

  async hide(): Promise<void> {
    const X = this.x.display.client;
    X.removeListener('event', this.listener);
    for (const id of this.windows) X.DestroyWindow(id);
    this.windows = [];
    await this.x.sync();
  }

  private onEvent(event: XEvent & { wid1?: number }): void {
    const window = event.name === 'MapNotify' ? event.wid : event.name === 'ConfigureNotify' ? event.wid1 : undefined;
    if (window === undefined || this.windows.includes(window) || this.raiseQueued) return;
    this.raiseQueued = true;
    setImmediate(() => {
      this.raiseQueued = false;
      for (const id of this.windows) this.x.display.client.RaiseWindow(id);
    });
  }
}
