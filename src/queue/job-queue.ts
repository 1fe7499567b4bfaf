import type { AuditEventName } from '../store/audit.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from '../store/locks.ts';
import type { Db } from '../store/open-store.ts';
import { writeTogether, writeWithoutFsync } from '../store/write-together.ts';
import type { JobKind, JobLease } from './job-kind.ts';
import {
  claimJob, deadJob, failJob, holdsJobLease, nextJobDueAt, recordJobStep, releaseJob, renewJobLease, requeueExpiredJobs,
  type Claimed, type JobFailure,
} from './leased-jobs.ts';

type Awaitable<T> = T | Promise<T>;

/**
 * One kind of job on one database, as the loop runner and an attempt see it. Every verb may
 * answer now (SQLite, synchronous) or later (a database reached over the network): callers
 * await them all, so a second store implements this and nothing above it changes.
 */
export interface JobQueue<L extends JobLease> {
  readonly kind: JobKind;
  claim(now: number, leaseMs: number, only?: string): Awaitable<L | undefined>;
  /** Extends the lease and every lock the attempt holds; false when the lease was lost. */
  renew(lease: L, now: number, leaseMs: number): Awaitable<boolean>;
  holds(lease: L, now: number): Awaitable<boolean>;
  requeueExpired(now: number, maxAttempts: number): Awaitable<number>;
  nextDueAt(): Awaitable<number | undefined>;
  fail(lease: L, failure: JobFailure, nextAttemptAt: number, now: number): Awaitable<boolean>;
  dead(lease: L, failure: JobFailure, now: number): Awaitable<boolean>;
  release(lease: L, nextAttemptAt: number, reason: string, now: number): Awaitable<boolean>;
  /** All of `keys` for this attempt or none; a lock dies with its holder's lease. */
  acquireLocks(lease: L, keys: string[], now: number): Awaitable<boolean>;
  releaseLocks(lease: L): Awaitable<void>;
  /** A fenced step of a running attempt (audited unless `event` is null); false when the lease was lost. */
  recordStep(lease: L, set: Record<string, unknown>, event: AuditEventName | null, detail: Record<string, unknown>, now: number): Awaitable<boolean>;
  /** The writes that end one attempt (its outcome, its locks given back) as one commit. */
  together<T>(writes: () => T): Awaitable<T>;
}

export interface SqliteJobQueueOptions<L extends JobLease> {
  kind: JobKind;
  /** The kind's own columns read at claim time, and its lease built from them. */
  claimColumns: Parameters<typeof claimJob>[4];
  toLease(claimed: Claimed): L;
  /** The kind's own dead-letter, when it differs from the plain one (orders requeue on a change). */
  dead?(db: Db, lease: L, failure: JobFailure, now: number): boolean;
}

/**
 * The SQLite queue. Claims, lock takes, lease renewals and stateless steps commit without
 * waiting for their fsync (write-together.ts): a power cut can only undo them before the next
 * durable commit, which leaves the job queued to be run again idempotently. Outcomes and the
 * audit rows of state changes stay durable.
 */
export function sqliteJobQueue<L extends JobLease>(db: Db, options: SqliteJobQueueOptions<L>): JobQueue<L> {
  const { kind } = options;
  return {
    kind,
    claim(now, leaseMs, only) {
      const claimed = writeWithoutFsync(db, () => claimJob(db, kind, now, leaseMs, options.claimColumns, only));
      return claimed && options.toLease(claimed);
    },
    renew: (lease, now, leaseMs) => writeWithoutFsync(db, () => {
      const held = renewJobLease(db, kind, lease, now, leaseMs);
      if (held) extendLocks(db, lease.token, lease.expiresAt);
      return held;
    }),
    holds: (lease, now) => holdsJobLease(db, kind, lease, now),
    requeueExpired: (now, maxAttempts) => requeueExpiredJobs(db, kind, now, maxAttempts),
    nextDueAt: () => nextJobDueAt(db, kind),
    fail: (lease, failure, nextAttemptAt, now) => failJob(db, kind, lease, failure, nextAttemptAt, now),
    dead: (lease, failure, now) => (options.dead ? options.dead(db, lease, failure, now) : deadJob(db, kind, lease, failure, now)),
    release: (lease, nextAttemptAt, reason, now) => releaseJob(db, kind, lease, nextAttemptAt, reason, now),
    acquireLocks: (lease, keys, now) => writeWithoutFsync(db, () => tryAcquireLocks(db, keys, lease.token, lease.expiresAt, now)),
    releaseLocks: (lease) => releaseLocks(db, lease.token),
    // A step that changes no state (event null) is bookkeeping the next attempt redoes: no fsync.
    recordStep: (lease, set, event, detail, now) => (event === null ? writeWithoutFsync : writeTogether)(db, () => recordJobStep(db, kind, lease, set, event, detail, now)),
    together: (writes) => writeTogether(db, writes),
  };
}
