// simple-peer's dependencies (readable-stream, randombytes) read `process`
// as a global; the renderer has none, and must not get Node's.
export const process = {
  env: {} as Record<string, string>,
  browser: true,
  version: '',
  nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args)),
};
