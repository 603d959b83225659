import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from '../src/renderer/throttle';

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs at once after a quiet spell, then at most once a second however often asked, and once after the last ask', () => {
    const fn = vi.fn();
    const ask = throttle(fn, 1000);
    ask();
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
    // A burst: 100 asks over 2.5 s.
    for (let i = 0; i < 100; i += 1) {
      ask();
      vi.advanceTimersByTime(25);
    }
    expect(fn).toHaveBeenCalledTimes(3);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(4);
    vi.advanceTimersByTime(10_000);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('runs nothing once cancelled', () => {
    const fn = vi.fn();
    const ask = throttle(fn, 1000);
    ask();
    ask.cancel();
    vi.advanceTimersByTime(5000);
    expect(fn).not.toHaveBeenCalled();
  });
});
