export interface BackoffSettings {
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * Exponential backoff with full jitter between delivery attempts; a server's Retry-After wins
 * when it is longer (design.md RETRY_BASE_SECONDS / RETRY_MAX_SECONDS).
 */
export function nextAttemptDelayMs(attempt: number, settings: BackoffSettings, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}
