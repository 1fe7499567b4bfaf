import type { SyncError } from '../errors.ts';
import { retriesInCall, retryAfterMs } from './retry-policy.ts';
import { AttemptFailed, type Attempt } from './request-with-retries.ts';
import { sharedHttpTransport, type HttpTransport, type UpstreamRequest } from './node-http-transport.ts';
import type { UpstreamResponse } from './upstream-response.ts';

/** An upstream's own words for what went wrong: each has its error codes and messages. */
export interface AnswerClassifier {
  /** The failure for an answer not accepted; it may read the body, which is never logged. */
  failureFromStatus(response: UpstreamResponse, retryAfterMs: number | undefined): SyncError | Promise<SyncError>;
  /** No answer at all: refused, reset, unresolved, or the attempt's timeout. */
  failureFromNetwork(error: unknown): SyncError;
  /** Whether to ask again within the call; retry-policy's verdict on the status by default. */
  retriesInCall?(response: UpstreamResponse): boolean;
  /** Any 2xx by default. */
  accepts?(status: number): boolean;
}

/**
 * One HTTP exchange of an attempt, bounded by the attempt's signal. Returns an accepted answer
 * with its body unread (so the timeout still covers reading it); throws AttemptFailed otherwise.
 */
export async function sendAttempt(
  url: string | URL, init: UpstreamRequest, attempt: Pick<Attempt, 'signal' | 'status'>, answers: AnswerClassifier, transport: HttpTransport = sharedHttpTransport(),
): Promise<UpstreamResponse> {
  let response: UpstreamResponse;
  try {
    response = await transport.send(url, { ...init, signal: attempt.signal });
  } catch (error) {
    throw new AttemptFailed(answers.failureFromNetwork(error), true);
  }
  attempt.status = response.status;
  if (answers.accepts?.(response.status) ?? response.ok) return response;
  const failure = await answers.failureFromStatus(response, retryAfterMs(response.headers));
  // Frees the connection; an unread error body is dropped, never parsed or kept.
  if (!response.bodyUsed) await response.body?.cancel();
  throw new AttemptFailed(failure, answers.retriesInCall?.(response) ?? retriesInCall(response.status), response.status);
}
