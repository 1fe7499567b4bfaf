import { SyncError } from '../errors.ts';
import { classifyStatus, retriesInCall } from '../upstream/retry-policy.ts';
import type { AnswerClassifier } from '../upstream/send-attempt.ts';
import type { AnswerHeaders } from '../upstream/upstream-response.ts';
import { describeNetworkFailure } from '../upstream/network-failure.ts';

// Classification of Avara answers, decided once here (avara-api.md §2, §3, §10). `endpoint` is the
// templated route ("GET /v1/autoScribe/studies/{studyId}"): never a URL with ids or query values.

/** Whether the SDKs would retry this answer in-process; `x-should-retry` overrides the status. */
function isRetryableStatus(status: number, headers: AnswerHeaders): boolean {
  const hint = headers.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return retriesInCall(status);
}

/** Avara's words for the shared request loop; `accepts` widens what counts as an answer (a 404 lookup). */
export function avaraAnswers(endpoint: string, timeoutMs: number, accepts?: (status: number) => boolean): AnswerClassifier {
  return {
    async failureFromStatus(response, waitMs) {
      // Error bodies may echo PHI (§2); they are read to free the connection and dropped.
      await response.text();
      return failureFromStatus(endpoint, response.status, waitMs);
    },
    failureFromNetwork: (error) => failureFromNetwork(endpoint, error, timeoutMs),
    retriesInCall: (response) => isRetryableStatus(response.status, response.headers),
    accepts,
  };
}

function failureFromStatus(endpoint: string, status: number, retryAfterMs: number | undefined): SyncError {
  const message = `Avara ${endpoint} answered ${status}`;
  // §10: right after report.delivered a GET may briefly 404; the worker bounds these attempts.
  if (status === 404) return SyncError.retryable('avara_not_found', message);
  switch (classifyStatus(status)) {
    case 'unauthorized':
      return SyncError.permanent('avara_unauthorized', `${message}: check AVARA_API_KEY and its product access`);
    case 'rate_limited':
      return SyncError.retryable('avara_rate_limited', message, { retryAfterMs });
    case 'retryable':
      return SyncError.retryable('avara_unavailable', message, { retryAfterMs });
    case 'permanent':
      return SyncError.permanent('avara_bad_request', message);
  }
}

function failureFromNetwork(endpoint: string, error: unknown, timeoutMs: number): SyncError {
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  // The socket's code and host:port (`ECONNREFUSED 10.1.2.3:443`): what to check first.
  const what = timedOut ? `timed out after ${timeoutMs} ms` : `failed without an answer (${describeNetworkFailure(error).text})`;
  return SyncError.retryable('avara_unavailable', `Avara ${endpoint} ${what}`, { cause: error });
}
