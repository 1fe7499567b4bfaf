import { SyncError } from '../errors.ts';

// Classification of Avara answers, decided once here (avara-api.md §2, §3, §10). `endpoint` is the
// templated route ("GET /v1/autoScribe/studies/{studyId}"): never a URL with ids or query values.

/** Whether the SDKs would retry this answer in-process; `x-should-retry` overrides the status. */
export function isRetryableStatus(status: number, headers: Headers): boolean {
  const hint = headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function failureFromStatus(endpoint: string, status: number, retryAfterMs: number | undefined): SyncError {
  const message = `Avara ${endpoint} answered ${status}`;
  if (status === 401 || status === 403) {
    return SyncError.permanent('avara_unauthorized', `${message}: check AVARA_API_KEY and its product access`);
  }
  // §10: right after report.delivered a GET may briefly 404; the worker counts these attempts.
  if (status === 404) return SyncError.retryable('avara_not_found', message);
  if (status === 429) return SyncError.retryable('avara_rate_limited', message, { retryAfterMs });
  if (status === 408 || status === 409 || status >= 500) {
    return SyncError.retryable('avara_unavailable', message, { retryAfterMs });
  }
  return SyncError.permanent('avara_bad_request', message);
}

export function failureFromNetwork(endpoint: string, error: unknown, timeoutMs: number): SyncError {
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const what = timedOut ? `timed out after ${timeoutMs} ms` : 'failed without an answer (connection error)';
  return SyncError.retryable('avara_unavailable', `Avara ${endpoint} ${what}`, { cause: error });
}
