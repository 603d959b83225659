import x11, { type DamageExt, type ShapeExt, type ShmExt, type XDisplay } from 'x11';

/** One connection to the X server, with the promise-shaped helpers the adapter needs. */
export interface XConnection {
  display: XDisplay;
  root: number;
  /** Resolves once the server has processed every request sent so far. */
  sync(): Promise<void>;
  damage(): Promise<DamageExt>;
  shape(): Promise<ShapeExt>;
  shm(): Promise<ShmExt>;
  close(): Promise<void>;
}

export interface DisplayOptions {
  /** Whether MIT-SHM may be used (default true); tests turn it off to exercise the core-request path. */
  sharedMemory?: boolean;
}

/** `onError` hears X protocol errors after connecting (a stale window id, say): the adapter logs them and carries on. */
export function openDisplay(name: string, onError: (error: Error) => void, options: DisplayOptions = {}): Promise<XConnection> {
  return new Promise((resolve, reject) => {
    const client = x11.createClient({ display: name, ...(options.sharedMemory === false ? { shm: false as const } : {}) }, (error, display) => {
      if (error) return reject(new Error(`Cannot open X display ${name}: ${error.message}`));
      const X = display.client;
      const ext = <E>(which: 'damage' | 'shape' | 'shm') =>
        new Promise<E>((res, rej) => X.require(which as 'damage', (err, e) => (err ? rej(new Error(`X extension ${which}: ${err.message}`)) : res(e as E))));
      resolve({
        display,
        root: display.screen[0]!.root,
        sync: () => new Promise((res, rej) => X.sync((err) => (err ? rej(err) : res()))),
        damage: () => ext<DamageExt>('damage'),
        shape: () => ext<ShapeExt>('shape'),
        shm: () => ext<ShmExt>('shm'),
        close: () => new Promise((res) => X.close(() => res())),
      });
    });
    let connected = false;
    client.on('connect', () => {
      connected = true;
    });
    client.on('error', (error: Error) => (connected ? onError(error) : reject(error)));
  });
}
