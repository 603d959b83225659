/**
 * Reconnect delays: exponential, capped, with jitter so that a thousand rooms
 * losing the same server do not all come back in the same millisecond. Half
 * of each delay is fixed and half random ("equal jitter").
 */
export function reconnectDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The longest wait a server's `Retry-After` is followed for: past it the header is taken as broken. */
export const MAX_RETRY_AFTER_S = 300;

/**
 * When a server that refused a connection as busy (503) asked to be tried
 * again: its `Retry-After` in whole seconds, plus up to a second of jitter so
 * that those told the same second do not come back in the same millisecond.
 * Null when the header is missing, not a number of seconds, or past
 * `MAX_RETRY_AFTER_S` (then the caller's own backoff applies).
 */
export function retryAfterDelay(header: string | string[] | undefined, random: () => number = Math.random): number | null {
  if (typeof header !== 'string' || !/^\d{1,4}$/.test(header.trim())) return null;
  const seconds = Number(header.trim());
  return seconds <= MAX_RETRY_AFTER_S ? Math.round(seconds * 1000 + random() * 1000) : null;
}
