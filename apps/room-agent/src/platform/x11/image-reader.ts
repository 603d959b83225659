import type { ShmExt, ShmSegment } from 'x11';
import type { XConnection } from './xconnection';

const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;

/** Reads rectangles of the root window as the server's ZPixmap bytes (rows of 32-bit pixels, unpadded at this depth), starting on a 4-byte boundary. */
export interface ImageReader {
  readonly kind: 'shared memory' | 'socket';
  /**
   * The bytes stay valid until the next read for the same `owner` (a
   * monitor): read them before awaiting that. Reads for different owners
   * never overwrite each other.
   */
  read(owner: string, x: number, y: number, width: number, height: number): Promise<Uint8Array>;
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
    read: (_owner, left, top, width, height) =>
      x.request<Uint8Array>((done) =>
        x.display.client.GetImage(Z_PIXMAP, x.root, left, top, width, height, ALL_PLANES, (error, image) =>
          done(error && new Error(`GetImage ${width}x${height}+${left}+${top}: ${error.message}`), image && aligned(image.data)),
        ),
      ),
    close: () => undefined,
  };
}

/** The bytes themselves when they start on a 4-byte boundary (32-bit views need it), else a copy that does. */
export function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
}

/**
 * One segment per owner, grown to the largest rectangle it asked for. Reads
 * are queued: the server would otherwise write a second image into a
 * segment before the first reply's bytes were copied out of it.
 */
class SharedMemoryReader implements ImageReader {
  readonly kind = 'shared memory';
  private readonly segments = new Map<string, ShmSegment>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly x: XConnection,
    private readonly ext: ShmExt,
  ) {}

  read(owner: string, left: number, top: number, width: number, height: number): Promise<Uint8Array> {
    const next = this.queue.then(() => this.readNow(owner, left, top, width, height));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.closed = true;
    for (const segment of this.segments.values()) segment.detach();
    this.segments.clear();
  }

  private async readNow(owner: string, left: number, top: number, width: number, height: number): Promise<Uint8Array> {
    // A read queued behind close() would attach a segment nobody detaches.
    if (this.closed) throw new Error('MIT-SHM reader closed');
    const bytes = width * height * 4;
    const segment = await this.segmentOf(owner, bytes);
    const size = await this.x.request<number>((done) =>
      segment.getImage(this.x.root, left, top, width, height, ALL_PLANES, this.ext.ImageFormat.ZPixmap, 0, (error, reply) =>
        done(error && new Error(`MIT-SHM GetImage ${width}x${height}+${left}+${top}: ${error.message}`), reply?.size),
      ),
    );
    if (size < bytes) throw new Error(`MIT-SHM GetImage ${width}x${height}+${left}+${top} returned ${size} bytes, expected ${bytes}.`);
    return segment.buffer.subarray(0, bytes);
  }

  private async segmentOf(owner: string, bytes: number): Promise<ShmSegment> {
    const known = this.segments.get(owner);
    if (known && known.size >= bytes) return known;
    known?.detach();
    this.segments.delete(owner);
    const segment = await this.x.request<ShmSegment>((done) =>
      this.ext.createSegment(bytes, (error, created) => done(error && new Error(`MIT-SHM segment of ${bytes} bytes: ${error.message}`), created)),
    );
    this.segments.set(owner, segment);
    return segment;
  }
}
