import type { ShmExt, ShmSegment } from 'x11';
import type { XConnection } from './xconnection';

const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;

/** Reads rectangles of the root window as the server's ZPixmap bytes (rows of 32-bit pixels, unpadded at this depth). */
export interface ImageReader {
  readonly kind: 'shared memory' | 'socket';
  /** The bytes stay valid until the next read: use them before awaiting anything else. */
  read(x: number, y: number, width: number, height: number): Promise<Uint8Array>;
  close(): void;
}

/**
 * MIT-SHM when the server attaches a segment, core GetImage otherwise (a
 * remote display, no /dev/shm). Through shared memory the server copies a
 * 1080p frame into a tmpfs file the agent reads with one pread: 2.5 ms here,
 * against 8.9 ms for the same 8 MB through the X socket, and the X server
 * no longer spends its time writing to that socket.
 */
export async function imageReader(x: XConnection): Promise<ImageReader> {
  const ext = await x.shm().catch(() => null);
  if (ext && (await x.request<boolean>((done) => ext.usable((error, usable) => done(null, !error && usable))))) return new SharedMemoryReader(x, ext);
  return socketReader(x);
}

function socketReader(x: XConnection): ImageReader {
  return {
    kind: 'socket',
    read: (left, top, width, height) =>
      x.request<Uint8Array>((done) =>
        x.display.client.GetImage(Z_PIXMAP, x.root, left, top, width, height, ALL_PLANES, (error, image) =>
          done(error && new Error(`GetImage ${width}x${height}+${left}+${top}: ${error.message}`), image?.data),
        ),
      ),
    close: () => undefined,
  };
}

/**
 * One segment, grown to the largest rectangle asked for. Reads are queued:
 * the server would otherwise write a second image into the segment before
 * the first reply's bytes were copied out of it.
 */
class SharedMemoryReader implements ImageReader {
  readonly kind = 'shared memory';
  private segment: ShmSegment | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly x: XConnection,
    private readonly ext: ShmExt,
  ) {}

  read(left: number, top: number, width: number, height: number): Promise<Uint8Array> {
    const next = this.queue.then(() => this.readNow(left, top, width, height));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.closed = true;
    this.detach();
  }

  private detach(): void {
    this.segment?.detach();
    this.segment = null;
  }

  private async readNow(left: number, top: number, width: number, height: number): Promise<Uint8Array> {
    // A read queued behind close() would attach a segment nobody detaches.
    if (this.closed) throw new Error('MIT-SHM reader closed');
    const bytes = width * height * 4;
    const segment = await this.segmentOf(bytes);
    const size = await this.x.request<number>((done) =>
      segment.getImage(this.x.root, left, top, width, height, ALL_PLANES, this.ext.ImageFormat.ZPixmap, 0, (error, reply) =>
        done(error && new Error(`MIT-SHM GetImage ${width}x${height}+${left}+${top}: ${error.message}`), reply?.size),
      ),
    );
    if (size < bytes) throw new Error(`MIT-SHM GetImage ${width}x${height}+${left}+${top} returned ${size} bytes, expected ${bytes}.`);
    return segment.buffer.subarray(0, bytes);
  }

  private async segmentOf(bytes: number): Promise<ShmSegment> {
    if (this.segment && this.segment.size >= bytes) return this.segment;
    this.detach();
    this.segment = await this.x.request<ShmSegment>((done) =>
      this.ext.createSegment(bytes, (error, segment) => done(error && new Error(`MIT-SHM segment of ${bytes} bytes: ${error.message}`), segment)),
    );
    return this.segment;
  }
}
