/** Wait before in-call retry n of an Avara request, as the SDKs do by default (0-based): 0.5 s × 2^n, capped at 8 s, times a 0.75-1.0 jitter. */
export function backoffMs(retryIndex: number, random: () => number = Math.random): number {
  const seconds = Math.min(0.5 * 2 ** retryIndex, 8);
  return seconds * (1 - random() * 0.25) * 1000;
}
