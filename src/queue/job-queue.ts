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

/**
 * One kind of job on one database, as the loop runner and an attempt see it. Every verb is one
 * transaction and answers later (a database reached over the network, or SQLite behind the same
 * promise), and every write is fenced on the lease token inside it: a caller never checks the
 * lease and then writes. `Ending` is how the kind's attempts end well (a delivery delivered or
 * skipped, an order synced).
 *
 * The verbs that end an attempt (finish, fail, dead, release) also give back every lock the
 * attempt holds, in the same transaction, whether or not the lease was still held: one commit
 * per attempt's end instead of a caller composing several writes.
 */
export interface JobQueue<L extends JobLease, Event extends string = string, Ending = never> {
  claim(now: number, leaseMs: number, only?: string): Promise<L | undefined>;
  /** Extends the lease and every lock the attempt holds; false when the lease was lost. */
  renew(lease: L, now: number, leaseMs: number): Promise<boolean>;
  holds(lease: L, now: number): Promise<boolean>;
  requeueExpired(now: number, maxAttempts: number): Promise<number>;
  /**
   * When a claim could next find work: a waiting job's next attempt, or just after the earliest
   * lease of a job in progress ends (a worker that died leaves it there until requeueExpired
   * returns it; a live one renews it, which moves this later).
   */
  nextDueAt(): Promise<number | undefined>;
  /** The kind's own good end (audited); false when the lease was lost: the new owner decides. */
  finish(lease: L, ending: Ending, now: number): Promise<boolean>;
  fail(lease: L, failure: JobFailure, nextAttemptAt: number, now: number): Promise<boolean>;
  dead(lease: L, failure: JobFailure, now: number): Promise<boolean>;
  /** Gives the job back without spending the attempt (lock busy, rate limited, shutdown). */
  release(lease: L, nextAttemptAt: number, reason: string, now: number): Promise<boolean>;
  /** All of `keys` for this attempt or none; a lock dies with its holder's lease. */
  acquireLocks(lease: L, keys: string[], now: number): Promise<boolean>;
  releaseLocks(lease: L): Promise<void>;
  /** A fenced step of a running attempt (audited unless `event` is null); false when the lease was lost. */
  recordStep(lease: L, set: Record<string, unknown>, event: Event | null, detail: Record<string, unknown>, now: number): Promise<boolean>;
}
