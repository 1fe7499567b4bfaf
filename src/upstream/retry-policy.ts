// The one place that says which answers are worth trying again, and how long a server asked
// us to wait. Both the Avara client and the FHIR client classify with it.

/** Network errors and timeouts are retryable too; this covers answers with a status. */
export type StatusVerdict = 'retryable' | 'rate_limited' | 'unauthorized' | 'permanent';

export function classifyStatus(status: number): StatusVerdict {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'unauthorized';
  // 408 timeout, 409 conflict/lock, 425 too early, 5xx: the same request may succeed later.
  if (status === 408 || status === 409 || status === 425 || status >= 500) return 'retryable';
  // 400, 404, 410, 412, 422 and the rest: the same request fails again tomorrow.
  return 'permanent';
}

/** Whether asking again within the same call may help: not for a verdict, only for a busy or limiting server. */
export function retriesInCall(status: number): boolean {
  const verdict = classifyStatus(status);
  return verdict === 'retryable' || verdict === 'rate_limited';
}

/** `retry-after-ms` (the Avara SDKs' header) first, then `Retry-After` as seconds or an HTTP-date. */
export function retryAfterMs(headers: { get(name: string): string | null }, nowMs: number = Date.now()): number | undefined {
  const milliseconds = parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const header = headers.get('retry-after')?.trim();
  if (!header) return undefined;
  if (/^\d+(\.\d+)?$/.test(header)) return parseFloat(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
