import wrtc from '@roamhq/wrtc';
import type { Capture, Monitor } from './platform';

type VideoSource = InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;

export interface PumpOptions {
  /** Frames per second while the screen changes. */
  maxFps: number;
  /** How often a platform without change hints is polled. */
  pollMs: number;
}

export const defaultPumpOptions: PumpOptions = { maxFps: 30, pollMs: 500 };

export interface PumpStats {
  captured: number;
  sent: number;
  unchanged: number;
  /** Frames sent again because the viewer asked for a keyframe. */
  resent: number;
  /** Capture start to frame handed to the encoder, for the most recent frames. */
  latenciesMs: number[];
  firstFrameAt: number | null;
}

const LATENCY_SAMPLES = 2000;

/**
 * Feeds one display into one video source. Nothing is captured until the
 * platform says pixels may have changed (X DAMAGE on x11), captures are
 * spaced to `maxFps`, identical frames are skipped, and the rest are
 * converted to I420 for the encoder. A static screen therefore costs no
 * capture and no encode at all — not even a periodic refresh, which would
 * wake the encoder and its bandwidth probing (measured: 9 KB/s on the wire
 * and 2.5 % of a core for a refresh every 3 s). A viewer that lost a
 * picture asks for a keyframe and gets the last frame again.
 */
export class FramePump {
  private dirty = true;
  private busy = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastCaptureAt = 0;
  private last: { rgba: Uint8Array; i420: Uint8Array; width: number; height: number } | null = null;
  private unwatch: (() => void) | null = null;
  private poller: NodeJS.Timeout | undefined;
  readonly stats: PumpStats = { captured: 0, sent: 0, unchanged: 0, resent: 0, latenciesMs: [], firstFrameAt: null };

  constructor(
    private readonly capture: Capture,
    private readonly monitor: Monitor,
    private readonly source: VideoSource,
    private readonly options: PumpOptions = defaultPumpOptions,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  start(): void {
    this.unwatch = this.capture.watch(this.monitor, () => this.changed());
    if (!this.unwatch) this.poller = setInterval(() => this.changed(), this.options.pollMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.unwatch?.();
  }

  /** The viewer asked for a keyframe: the encoder makes one from the next frame it gets. */
  resend(): void {
    if (this.repeat()) this.stats.resent += 1;
  }

  /**
   * Feeds the last frame again, for a link that has just come up: a frame
   * fed before it may have been dropped, and a still screen sends no other.
   * When it was kept instead, the repeat costs a near-empty delta frame.
   */
  repeat(): boolean {
    if (!this.last || this.stopped) return false;
    this.source.onFrame({ width: this.last.width, height: this.last.height, data: this.last.i420 });
    return true;
  }

  private changed(): void {
    this.dirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.busy || this.timer || this.stopped || !this.dirty) return;
    const wait = Math.max(0, this.lastCaptureAt + 1000 / this.options.maxFps - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, wait);
  }

  private async tick(): Promise<void> {
    this.busy = true;
    this.dirty = false;
    const started = performance.now();
    this.lastCaptureAt = Date.now();
    try {
      const frame = await this.capture.grab(this.monitor);
      if (this.stopped) return;
      this.stats.captured += 1;
      const last = this.last;
      const sameSize = last !== null && last.width === frame.width && last.height === frame.height;
      if (sameSize && (frame.changed === false || (frame.changed === undefined && Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).equals(last.rgba)))) {
        this.stats.unchanged += 1;
        return;
      }
      const i420 = sameSize ? last.i420 : new Uint8Array((frame.width * frame.height * 3) / 2);
      wrtc.nonstandard.rgbaToI420({ width: frame.width, height: frame.height, data: frame.data }, { width: frame.width, height: frame.height, data: i420 });
      this.source.onFrame({ width: frame.width, height: frame.height, data: i420 });
      this.last = { rgba: Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), i420, width: frame.width, height: frame.height };
      this.stats.sent += 1;
      this.stats.firstFrameAt ??= Date.now();
      if (this.stats.latenciesMs.push(performance.now() - started) > LATENCY_SAMPLES) this.stats.latenciesMs.shift();
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
