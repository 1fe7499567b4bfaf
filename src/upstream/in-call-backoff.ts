/** Wait before in-call retry n (0-based) when the server named none, as the Avara SDKs do by default: 0.5 s × 2^n, capped at 8 s, times a 0.75-1.0 jitter. */
export function backoffMs(retryIndex: number, random: () => number = Math.random): number {
  const seconds = Math.min(0.5 * 2 ** retryIndex, 8);
  return seconds * (1 - random() * 0.25) * 1000;
}
