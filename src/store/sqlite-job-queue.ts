import type { AuditEventName } from './audit.ts';
import type { JobFailure, JobLease, JobQueue } from '../queue/job-queue.ts';
import type { JobKind } from './job-kind.ts';
import {
  claimJob, deadJob, failJob, holdsJobLease, nextJobDueAt, recordJobStep, releaseJob, renewJobLease, requeueExpiredJobs,
  type Claimed,
} from './leased-jobs.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from './locks.ts';
import type { Db } from './open-store.ts';
import { writeTogether, writeWithoutFsync } from './write-together.ts';

export interface SqliteJobQueueOptions<L extends JobLease, Ending> {
  kind: JobKind;
  /** The kind's own columns read at claim time, and its lease built from them. */
  claimColumns: Parameters<typeof claimJob>[4];
  toLease(claimed: Claimed): L;
  /** The kind's own good end of an attempt (inside the attempt's last transaction). */
  finish(db: Db, lease: L, ending: Ending, now: number): boolean;
  /** The kind's own dead-letter, when it differs from the plain one (orders requeue on a change). */
  dead?(db: Db, lease: L, failure: JobFailure, now: number): boolean;
}

/**
 * The SQLite queue. Claims, lock takes, lease renewals and stateless steps commit without
 * waiting for their fsync (write-together.ts): a power cut can only undo them before the next
 * durable commit, which leaves the job queued to be run again idempotently. Outcomes and the
 * audit rows of state changes stay durable. better-sqlite3 answers at once; the promises only
 * give this queue the shape a networked database needs.
 */
export function sqliteJobQueue<L extends JobLease, Ending>(db: Db, options: SqliteJobQueueOptions<L, Ending>): JobQueue<L, AuditEventName, Ending> {
  const { kind } = options;
  // An attempt's end and its locks given back: one durable commit, as one step of a delivery.
  const endAttempt = (lease: L, write: () => boolean) => writeTogether(db, () => {
    const held = write();
    releaseLocks(db, lease.token);
    return held;
  });
  return {
    async claim(now, leaseMs, only) {
      const claimed = writeWithoutFsync(db, () => claimJob(db, kind, now, leaseMs, options.claimColumns, only));
      return claimed && options.toLease(claimed);
    },
    renew: async (lease, now, leaseMs) => writeWithoutFsync(db, () => {
      const held = renewJobLease(db, kind, lease, now, leaseMs);
      if (held) extendLocks(db, lease.token, lease.expiresAt);
      return held;
    }),
    holds: async (lease, now) => holdsJobLease(db, kind, lease, now),
    requeueExpired: async (now, maxAttempts) => requeueExpiredJobs(db, kind, now, maxAttempts),
    nextDueAt: async () => nextJobDueAt(db, kind),
    finish: async (lease, ending, now) => endAttempt(lease, () => options.finish(db, lease, ending, now)),
    fail: async (lease, failure, nextAttemptAt, now) => endAttempt(lease, () => failJob(db, kind, lease, failure, nextAttemptAt, now)),
    dead: async (lease, failure, now) => endAttempt(lease, () => (options.dead ? options.dead(db, lease, failure, now) : deadJob(db, kind, lease, failure, now))),
    release: async (lease, nextAttemptAt, reason, now) => endAttempt(lease, () => releaseJob(db, kind, lease, nextAttemptAt, reason, now)),
    acquireLocks: async (lease, keys, now) => writeWithoutFsync(db, () => tryAcquireLocks(db, keys, lease.token, lease.expiresAt, now)),
    releaseLocks: async (lease) => releaseLocks(db, lease.token),
    // A step that changes no state (event null) is bookkeeping the next attempt redoes: no fsync.
    recordStep: async (lease, set, event, detail, now) => (event === null ? writeWithoutFsync : writeTogether)(db, () => recordJobStep(db, kind, lease, set, event, detail, now)),
  };
}
