// How long the server asked us to wait (avara-api.md §3): `retry-after-ms` first (milliseconds,
// the SDKs' non-standard header), then `Retry-After` as seconds or an HTTP-date.

export function retryAfterMs(headers: Headers, nowMs: number = Date.now()): number | undefined {
  const milliseconds = parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const header = headers.get('retry-after')?.trim();
  if (!header) return undefined;
  if (/^\d+(\.\d+)?$/.test(header)) return parseFloat(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The SDKs' default wait before retry n (0-based): 0.5 s × 2^n, capped at 8 s, times a 0.75-1.0 jitter. */
export function backoffMs(retryIndex: number, random: () => number = Math.random): number {
  const seconds = Math.min(0.5 * 2 ** retryIndex, 8);
  return seconds * (1 - random() * 0.25) * 1000;
}
