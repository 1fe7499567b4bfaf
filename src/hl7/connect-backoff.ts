/** How long to wait after the n-th connect failure in a row before trying again (no jitter: one client per target). */
export function connectBackoffMs(failuresInARow: number, backoff: { initialMs: number; maxMs: number }): number {
  if (failuresInARow <= 0) return 0;
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failuresInARow - 1, 30));
}
