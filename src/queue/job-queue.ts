/** Proof of ownership of one attempt at one job; every write of the attempt is fenced by its token. */
export interface JobLease {
  key: string;
  token: string;
  attempt: number;
  expiresAt: number;
}

export interface JobFailure {
  code: string;
  message: string;
}

type Awaitable<T> = T | Promise<T>;

/**
 * One kind of job on one database, as the loop runner and an attempt see it. Every verb may
 * answer now (SQLite, synchronous) or later (a database reached over the network): callers
 * await them all, so a second store implements this and nothing above it changes.
 */
export interface JobQueue<L extends JobLease, Event extends string = string> {
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
  recordStep(lease: L, set: Record<string, unknown>, event: Event | null, detail: Record<string, unknown>, now: number): Awaitable<boolean>;
  /** The writes that end one attempt (its outcome, its locks given back) as one commit. */
  together<T>(writes: () => T): Awaitable<T>;
}
