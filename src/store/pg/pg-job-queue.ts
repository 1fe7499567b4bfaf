import type { PgColumn } from 'drizzle-orm/pg-core';
import type { JobFailure, JobLease, JobQueue } from '../../queue/job-queue.ts';
import type { AuditEventName } from '../audit.ts';
import type { JobKind } from '../job-kind.ts';
import type { Claimed } from '../leased-jobs.ts';
import type { PgStore } from './open-pg-store.ts';
import { pgJobKind, type PgJobKind } from './pg-job-kind.ts';
import {
  claimJobPg, deadJobPg, failJobPg, holdsJobLeasePg, nextJobDueAtPg, recordJobStepPg, releaseJobPg, renewJobLeasePg, requeueExpiredJobsPg,
} from './pg-leased-jobs.ts';
import { givingBackLocksPg, releaseLocksPg, tryAcquireLocksPg } from './pg-locks.ts';

export interface PgJobQueueOptions<L extends JobLease, Ending> {
  /** The SQLite kind (deliveryJobsOf(target), ORDER_JOBS): events and subject are shared. */
  kind: JobKind;
  /** The kind's own columns read at claim time (PostgreSQL twins), and its lease built from them. */
  claimColumns: Record<string, PgColumn>;
  toLease(claimed: Claimed): L;
  /** The kind's own good end of an attempt, its locks given back in the same commit. */
  finish(store: PgStore, lease: L, ending: Ending, now: number): Promise<boolean>;
  dead?(store: PgStore, kind: PgJobKind, lease: L, failure: JobFailure, now: number): Promise<boolean>;
}

/** The JobQueue of one kind on PostgreSQL, for the loop runner exactly as the SQLite one. */
export function pgJobQueue<L extends JobLease, Ending>(store: PgStore, options: PgJobQueueOptions<L, Ending>): JobQueue<L, AuditEventName, Ending> {
  const { pool, db } = store;
  const kind = pgJobKind(options.kind);
  return {
    claim: async (now, leaseMs, only) => {
      const claimed = await claimJobPg(pool, kind, now, leaseMs, options.claimColumns, only);
      return claimed && options.toLease(claimed);
    },
    renew: (lease, now, leaseMs) => renewJobLeasePg(pool, kind, lease, now, leaseMs),
    holds: (lease, now) => holdsJobLeasePg(db, kind, lease, now),
    requeueExpired: (now, maxAttempts) => requeueExpiredJobsPg(pool, kind, now, maxAttempts),
    nextDueAt: () => nextJobDueAtPg(db, kind),
    // The verbs that end an attempt give its locks back in the same commit (pg-locks.ts).
    finish: (lease, ending, now) => options.finish(store, lease, ending, now),
    fail: (lease, failure, nextAttemptAt, now) => givingBackLocksPg(pool, lease.token, () => failJobPg(pool, kind, lease, failure, nextAttemptAt, now)),
    dead: (lease, failure, now) => givingBackLocksPg(pool, lease.token, () => (options.dead ? options.dead(store, kind, lease, failure, now) : deadJobPg(pool, kind, lease, failure, now))),
    release: (lease, nextAttemptAt, reason, now) => givingBackLocksPg(pool, lease.token, () => releaseJobPg(pool, kind, lease, nextAttemptAt, reason, now)),
    acquireLocks: (lease, keys, now) => tryAcquireLocksPg(pool, keys, lease.token, lease.expiresAt, now),
    releaseLocks: (lease) => releaseLocksPg(pool, lease.token),
    recordStep: (lease, set, event, detail, now) => recordJobStepPg(pool, kind, lease, set, event, detail, now),
  };
}
