import type { SyncError } from '../errors.ts';
import { nextAttemptDelayMs, type BackoffSettings } from './backoff.ts';

export interface FailureSettings extends BackoffSettings {
  maxAttempts: number;
}

export type FailureDecision =
  /** Give the job back without spending the attempt, due again after `delayMs`. */
  | { action: 'release'; delayMs: number; reason: 'rate_limited' | 'credentials_refused' }
  | { action: 'retry'; delayMs: number }
  | { action: 'dead' };

// Read-after-webhook is not promised (avara-api.md §10): a 404 right after report.delivered is
// retried a few times; a report that stays unknown is a person's problem, not MAX_ATTEMPTS'.
const NOT_FOUND_MAX_ATTEMPTS = 5;
// Credentials do not fix themselves quickly; try again after a while rather than burn attempts.
export const CREDENTIALS_PAUSE_MS = 60_000;

/** What a failed attempt means for its job: the retry policy at the level of the queue. */
export function decideFailure(failure: SyncError, attempt: number, settings: FailureSettings): FailureDecision {
  if (failure.retryable && failure.retryAfterMs !== undefined) {
    // Being told when to come back (429, or 503 + Retry-After) is not a failed attempt.
    return { action: 'release', delayMs: failure.retryAfterMs, reason: 'rate_limited' };
  }
  if (failure.code === 'avara_unauthorized' || failure.code === 'fhir_unauthorized') {
    return { action: 'release', delayMs: CREDENTIALS_PAUSE_MS, reason: 'credentials_refused' };
  }
  if (!failure.retryable || attempt >= settings.maxAttempts) return { action: 'dead' };
  if (failure.code === 'avara_not_found' && attempt >= NOT_FOUND_MAX_ATTEMPTS) return { action: 'dead' };
  return { action: 'retry', delayMs: nextAttemptDelayMs(attempt, settings, failure.retryAfterMs) };
}
