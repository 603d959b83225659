import { checkTile, decodePicture, PictureAssembler, PictureError, type PictureMessage, type Rect } from '@roomlink/shared';

type Tile = Extract<PictureMessage, { kind: 'tile' }>;

export interface PictureStats {
  /** Frames drawn: tiles drawn together at a frame end. */
  frames: number;
  tiles: number;
  videoFrames: number;
  /** Messages and tiles refused (malformed, outside the display, lying about their size, undecodable), by reason. */
  dropped: Partial<Record<PictureError['reason'], number>>;
}

const mimeTypes: Record<Tile['format'], string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/**
 * Draws the room's picture on a canvas: tiles from the picture channel,
 * decoded off the main thread (`createImageBitmap`) and drawn together at
 * their frame's end, and the video track in the region the room says is
 * moving. Everything is checked before it is decoded (see `checkTile`); a
 * bad message is dropped and counted, never drawn, never thrown.
 */
export class PictureReceiver {
  readonly stats: PictureStats = { frames: 0, tiles: 0, videoFrames: 0, dropped: {} };
  private readonly assembler = new PictureAssembler();
  private readonly context: CanvasRenderingContext2D;
  private display = { epoch: -1, width: 0, height: 0 };
  private region: Rect | null = null;
  private tiles: Promise<{ tile: Tile; bitmap: ImageBitmap } | null>[] = [];
  private drawing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly video: HTMLVideoElement,
    private readonly onFrame: () => void = () => undefined,
  ) {
    this.context = canvas.getContext('2d', { alpha: false })!;
    this.watchVideo();
  }

  /** One data-channel message of the picture channel. */
  receive(fragment: ArrayBuffer): void {
    if (this.closed) return;
    try {
      const whole = this.assembler.push(new Uint8Array(fragment));
      if (whole) this.handle(decodePicture(whole));
    } catch (error) {
      this.drop(error);
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Which display picture is being drawn: it changes when the room starts sending another display. */
  get epoch(): number {
    return this.display.epoch;
  }

  private handle(message: PictureMessage): void {
    if (message.kind === 'display') {
      this.display = { epoch: message.epoch, width: message.width, height: message.height };
      this.tiles = [];
      this.drawing = this.drawing.then(() => {
        if (this.canvas.width === message.width && this.canvas.height === message.height) return;
        this.canvas.width = message.width;
        this.canvas.height = message.height;
      });
      return;
    }
    // Pictures of a display the technician has left.
    if (message.epoch !== this.display.epoch) return;
    switch (message.kind) {
      case 'video':
        this.drawing = this.drawing.then(() => {
          this.region = message.w ? { x: message.x, y: message.y, w: message.w, h: message.h } : null;
        });
        return;
      case 'tile':
        checkTile(message, this.display);
        this.tiles.push(this.decode(message));
        return;
      case 'frameEnd': {
        const tiles = this.tiles;
        this.tiles = [];
        this.drawing = this.drawing.then(async () => {
          for (const decoded of await Promise.all(tiles)) {
            if (!decoded || this.closed) continue;
            this.context.drawImage(decoded.bitmap, decoded.tile.x, decoded.tile.y);
            decoded.bitmap.close();
            this.stats.tiles += 1;
          }
          this.stats.frames += 1;
          this.onFrame();
        });
      }
    }
  }

  private async decode(tile: Tile): Promise<{ tile: Tile; bitmap: ImageBitmap } | null> {
    try {
      const bitmap = await createImageBitmap(new Blob([tile.image as Uint8Array<ArrayBuffer>], { type: mimeTypes[tile.format] }));
      if (bitmap.width === tile.w && bitmap.height === tile.h) return { tile, bitmap };
      bitmap.close();
      this.drop(new PictureError('size_mismatch'));
    } catch {
      this.drop(new PictureError('undecodable'));
    }
    return null;
  }

  /**
   * Draws each video frame into the moving region, while there is one and the
   * frame is of it: its size, or that size scaled down (WebRTC lowers the
   * resolution of a moving region under load rather than its frame rate).
   * A frame of another shape belongs to an earlier region and is skipped.
   */
  private watchVideo(): void {
    const draw = () => {
      if (this.closed) return;
      const region = this.region;
      const { videoWidth: w, videoHeight: h } = this.video;
      if (region && w > 0 && h > 0 && w <= region.w && Math.abs(w / h - region.w / region.h) < 0.02) {
        this.context.drawImage(this.video, region.x, region.y, region.w, region.h);
        this.stats.videoFrames += 1;
      }
      this.video.requestVideoFrameCallback(draw);
    };
    this.video.requestVideoFrameCallback(draw);
  }

  private drop(error: unknown): void {
    const reason = error instanceof PictureError ? error.reason : 'malformed';
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }
}
