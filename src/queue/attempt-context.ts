import type { Logger } from 'pino';
import { SyncError } from '../errors.ts';
import type { JobLease, JobQueue } from './job-queue.ts';

/**
 * What one attempt may do to its own job while it runs, handed alike to every job kind
 * (a delivery, an order). Each write is fenced on the attempt's lease.
 */
export interface AttemptContext<L extends JobLease = JobLease, Event extends string = string> {
  readonly lease: L;
  readonly log: Logger;
  /** Throws `lease_lost` when this attempt no longer owns its job (checked before an outside write). */
  assertLeaseHeld(): Promise<void>;
  /** Takes all of `keys` or none; false when another attempt holds one. */
  acquireLocks(keys: string[]): Promise<boolean>;
  /** A fenced step with its audit row (none for `event: null`); throws `lease_lost` when the lease is gone. */
  recordStep(set: Record<string, unknown>, event: Event | null, detail?: Record<string, unknown>): Promise<void>;
}

export function createAttemptContext<L extends JobLease, Event extends string>(queue: JobQueue<L, Event>, lease: L, log: Logger, now: () => number): AttemptContext<L, Event> {
  return {
    lease,
    log,
    async assertLeaseHeld() {
      // A late attempt whose job was taken over must not write next to the new owner: its locks
      // may have lapsed with its lease.
      if (!(await queue.holds(lease, now()))) throw SyncError.retryable('lease_lost', 'the lease expired and another worker may own the job; not writing');
    },
    acquireLocks: async (keys) => queue.acquireLocks(lease, keys, now()),
    async recordStep(set, event, detail = {}) {
      if (!(await queue.recordStep(lease, set, event, detail, now()))) {
        throw SyncError.retryable('lease_lost', 'the lease expired and another worker may own the job; stopping');
      }
    },
  };
}
