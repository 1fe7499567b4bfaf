import pRetry, { AbortError } from 'p-retry';
import { SyncError } from '../errors.ts';

/** Thrown by an attempt that may be tried again in-process after `delayMs`. */
export class RetryableAttempt extends Error {
  constructor(readonly failure: SyncError, readonly delayMs: number) {
    super(failure.message);
    this.name = 'RetryableAttempt';
  }
}

/**
 * Runs `attempt` up to 1 + maxRetries times (avara-api.md §3). An attempt throws RetryableAttempt
 * to be retried after its own delay (a server's Retry-After or backoff), or a SyncError to stop.
 * What still fails comes out as the last SyncError, for the job queue to schedule.
 */
export async function withShortRetries<T>(attempt: (retryIndex: number) => Promise<T>, maxRetries: number): Promise<T> {
  try {
    return await pRetry(async (attemptNumber) => {
      try {
        return await attempt(attemptNumber - 1);
      } catch (error) {
        if (error instanceof RetryableAttempt) throw error;
        throw new AbortError(error instanceof Error ? error : new Error(String(error)));
      }
    }, {
      retries: maxRetries,
      minTimeout: 0,          // waits come from shouldRetry below, per failure
      factor: 1,
      shouldRetry: async ({ error }) => {
        if (!(error instanceof RetryableAttempt)) return false;
        await new Promise((resolve) => setTimeout(resolve, error.delayMs));
        return true;
      },
    });
  } catch (error) {
    throw error instanceof RetryableAttempt ? error.failure : error;
  }
}
