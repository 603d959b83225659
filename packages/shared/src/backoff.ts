/**
 * Reconnect delays: exponential, capped, with jitter so that a thousand rooms
 * losing the same server do not all come back in the same millisecond. Half
 * of each delay is fixed and half random ("equal jitter").
 */
export function reconnectDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
