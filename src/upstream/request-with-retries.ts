import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import { SyncError, type ErrorCode } from '../errors.ts';
import { backoffMs } from './in-call-backoff.ts';

// The one in-call retry loop for every upstream (Avara, its PDF storage, FHIR), on p-retry. The
// wait between attempts is the server's Retry-After or our backoff, never both, and a long
// Retry-After is not slept at all: so p-retry's own backoff is zeroed and the wait is decided
// (and slept, or refused by throwing) in onFailedAttempt, where each attempt is also reported.

/** One attempt's window: its own timeout, and the status its answer had (set by sendAttempt). */
export interface Attempt {
  readonly retryIndex: number;
  readonly signal: AbortSignal;
  status?: number;
}

/** How an attempt failed, as the loop needs it: the upstream's verdict and whether this call may ask again. */
export class AttemptFailed extends Error {
  constructor(readonly failure: SyncError, readonly retryInCall: boolean, readonly status?: number) {
    super(failure.message, { cause: failure });
    this.name = 'AttemptFailed';
  }
}

export interface AttemptReport {
  operation: string;
  /** 1-based. */
  attempt: number;
  /** The answer's status; undefined without an answer, or when a library in between kept it. */
  status: number | undefined;
  outcome: 'ok' | ErrorCode;
  attemptMs: number;
  /** Since the call began, earlier attempts and waits included. */
  elapsedMs: number;
  /** No attempt follows: this outcome is the call's. */
  last: boolean;
}

export type ObserveAttempt = (report: AttemptReport) => void;

export interface RetrySettings {
  /** Per attempt, headers and body. */
  timeoutMs: number;
  maxRetries: number;
  /** A longer Retry-After goes back to the job queue as the failure's retryAfterMs. */
  maxRetryAfterMs: number;
  observe?: ObserveAttempt;
}

export interface UpstreamCall<T> {
  /** A name for metrics (the client method), never a URL. */
  operation: string;
  attempt(attempt: Attempt): Promise<T>;
  /** For anything else an attempt throws (a body cut off, a library's parse error); retried. */
  failureWithoutAnswer(error: unknown): SyncError;
}

/**
 * Runs `call.attempt` up to 1 + maxRetries times. An AttemptFailed with retryInCall waits the
 * Retry-After its failure carries, or backoff when it carries none; a SyncError thrown as such is
 * a verdict on the answer (shape, size) and ends the call. What still fails comes out as the
 * upstream's SyncError, for the job queue to schedule.
 */
export async function requestWithRetries<T>(settings: RetrySettings, call: UpstreamCall<T>, now: () => number = performance.now.bind(performance)): Promise<T> {
  const began = now();
  let current: { attempt: Attempt; started: number } | undefined;
  const report = (outcome: AttemptReport['outcome'], status: number | undefined, last: boolean) =>
    settings.observe?.({ operation: call.operation, attempt: current!.attempt.retryIndex + 1, status, outcome, attemptMs: now() - current!.started, elapsedMs: now() - began, last });
  return pRetry(
    async (attemptNumber) => {
      current = { attempt: { retryIndex: attemptNumber - 1, signal: AbortSignal.timeout(settings.timeoutMs) }, started: now() };
      try {
        const value = await call.attempt(current.attempt);
        report('ok', current.attempt.status, true);
        return value;
      } catch (error) {
        // Carried to onFailedAttempt as it is: p-retry would wrap a non-Error and drop our verdict.
        throw asAttemptFailed(error, call);
      }
    },
    {
      retries: settings.maxRetries,
      minTimeout: 0,
      randomize: false,
      async onFailedAttempt({ error }) {
        const failed = error as AttemptFailed;
        const waitMs = nextWaitMs(failed, current!.attempt.retryIndex, settings);
        report(failed.failure.code, failed.status ?? current!.attempt.status, waitMs === undefined);
        // Throwing here ends the call with the upstream's SyncError, for the job queue to schedule.
        if (waitMs === undefined) throw failed.failure;
        await sleep(waitMs);
      },
    },
  );
}

function asAttemptFailed(error: unknown, call: UpstreamCall<unknown>): AttemptFailed {
  if (error instanceof AttemptFailed) return error;
  if (error instanceof SyncError) return new AttemptFailed(error, false);
  return new AttemptFailed(call.failureWithoutAnswer(error), true);
}

function nextWaitMs(failed: AttemptFailed, retryIndex: number, settings: RetrySettings): number | undefined {
  if (!failed.retryInCall || retryIndex >= settings.maxRetries) return undefined;
  const asked = failed.failure.retryAfterMs;
  if (asked === undefined) return backoffMs(retryIndex);
  // A long server-requested wait is the job queue's to honour, not a held worker's.
  return asked > settings.maxRetryAfterMs ? undefined : asked;
}
