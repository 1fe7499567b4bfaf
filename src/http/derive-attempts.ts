import type { AuditEvent } from '../store/store.ts';

export interface Attempt {
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  /** delivered | failed | dead | skipped | released | lease_expired | null while running. */
  outcome: string | null;
  code: string | null;
  message: string | null;
}

const ENDINGS: Record<string, string> = {
  delivered: 'delivered',
  attempt_failed: 'failed',
  dead: 'dead',
  skipped: 'skipped',
  released: 'released',
  lease_expired: 'lease_expired',
};

/** Attempts of one delivery as the audit trail tells them: each attempt_started and what ended it. */
export function deriveAttempts(events: AuditEvent[]): Attempt[] {
  const attempts: Attempt[] = [];
  let open: Attempt | undefined;
  for (const event of events) {
    if (event.event === 'attempt_started') {
      open = { attempt: Number(event.detail?.attempt ?? attempts.length + 1), startedAt: event.at, endedAt: null, outcome: null, code: null, message: null };
      attempts.push(open);
      continue;
    }
    const outcome = ENDINGS[event.event];
    if (!outcome || !open) continue;
    open.endedAt = event.at;
    open.outcome = outcome;
    // A release has no error code, only why it was given back (lock busy, rate limited, shutdown).
    open.code = text(event.detail?.code) ?? (outcome === 'released' ? text(event.detail?.reason) : null);
    open.message = text(event.detail?.message);
    open = undefined;
  }
  return attempts;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
