import x11, { type DamageExt, type ShapeExt, type ShmExt, type XDisplay } from 'x11';

/** One connection to the X server, with the promise-shaped helpers the adapter needs. */
export interface XConnection {
  display: XDisplay;
  root: number;
  /**
   * Sends a request and settles with its reply, or rejects as soon as the
   * connection is lost: a vanished server never answers, and nothing that
   * waits on it (a session's end, the agent's stop) may wait forever.
   */
  request<T>(send: (done: (error: Error | null, value?: T) => void) => void): Promise<T>;
  /** Resolves once the server has processed every request sent so far. */
  sync(): Promise<void>;
  damage(): Promise<DamageExt>;
  shape(): Promise<ShapeExt>;
  shm(): Promise<ShmExt>;
  /** Resolves if the server goes away (it exited, or the socket broke); not when this side closes. */
  lost: Promise<Error>;
  /** Never rejects: a connection already lost is closed. */
  close(): Promise<void>;
}

export interface DisplayOptions {
  /** Whether MIT-SHM may be used (default true); tests turn it off to exercise the core-request path. */
  sharedMemory?: boolean;
}

/** `onError` hears X protocol errors after connecting (a stale window id, say): the adapter logs them and carries on. */
export function openDisplay(name: string, onError: (error: Error) => void, options: DisplayOptions = {}): Promise<XConnection> {
  let lostError: Error | null = null;
  let closing = false;
  let announceLoss: (error: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (announceLoss = resolve));
  const waiting = new Set<(error: Error) => void>();
  const lose = (cause: string) => {
    if (lostError) return;
    lostError = new Error(`X display ${name} closed the connection (${cause})`);
    for (const reject of waiting) reject(lostError);
    waiting.clear();
    if (!closing) announceLoss(lostError);
  };
  const request = <T>(send: (done: (error: Error | null, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => {
      if (lostError) return reject(lostError);
      waiting.add(reject);
      send((error, value) => {
        waiting.delete(reject);
        if (error) reject(error);
        else resolve(value as T);
      });
    });

  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display: name, ...(options.sharedMemory === false ? { shm: false as const } : {}) }, (error, display) => {
      if (error) return reject(new Error(`Cannot open X display ${name}: ${error.message}`));
      const X = display.client;
      const ext = <E>(which: 'damage' | 'shape' | 'shm') =>
        request<E>((done) => X.require(which as 'damage', (err, e) => done(err && new Error(`X extension ${which}: ${err.message}`), e as E)));
      resolve({
        display,
        root: display.screen[0]!.root,
        request,
        sync: () => request<void>((done) => X.sync((err) => done(err))),
        damage: () => ext<DamageExt>('damage'),
        shape: () => ext<ShapeExt>('shape'),
        shm: () => ext<ShmExt>('shm'),
        lost,
        close: () => {
          closing = true;
          return request<void>((done) => X.close(() => done(null))).catch(() => undefined);
        },
      });
    });
    let connected = false;
    client.on('connect', () => {
      connected = true;
    });
    client.on('end', () => lose('end of stream'));
    client.on('error', (error: Error & { code?: unknown }) => {
      if (!connected) return reject(error);
      // Socket errors carry a system code; X protocol errors (a bad window id, say) do not, and the connection lives on.
      if (typeof error.code === 'string') lose(error.code);
      else onError(error);
    });
  });
}
