/**
 * `fn` at most once per `ms` however often it is asked for, and always once
 * after the last ask: a view that reloads on pushes keeps up with ten
 * thousand rooms without asking the server ten thousand times.
 */
export function throttle(fn: () => void, ms: number): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = -Infinity;
  const ask = () => {
    timer ??= setTimeout(
      () => {
        timer = undefined;
        last = Date.now();
        fn();
      },
      Math.max(0, last + ms - Date.now()),
    );
  };
  ask.cancel = () => clearTimeout(timer);
  return ask;
}
