import type { Logger } from 'pino';
import { SyncError, toSyncError } from '../errors.ts';
import { createAttemptContext, type AttemptContext } from './attempt-context.ts';
import { decideFailure, type FailureSettings } from './decide-failure.ts';
import type { JobLease, JobQueue } from './job-queue.ts';
import { oncePerTurn } from './once-per-turn.ts';

export interface JobLoopSettings extends FailureSettings {
  concurrency: number;
  leaseMs: number;
  /** How long stop() lets attempts in flight finish before giving their leases back. */
  shutdownGraceMs: number;
  /**
   * How long an idle loop sleeps before looking by itself (default 5 s). Test entries set it long
   * to show that a wake, not the idle look, brought the work.
   */
  idlePollMs?: number;
}

/** How an attempt ended, for metrics: recorded by the runner (failures) or the kind (its outcomes). */
export interface AttemptFinished {
  /** The delivery target, for deliveries. */
  target?: string;
  outcome: 'delivered' | 'synced' | 'skipped' | 'failed' | 'dead' | 'released' | 'lease_lost';
  ms: number;
  code?: string;
  critical?: boolean;
}

/**
 * What a kind's attempt answers: its ending, written by the queue's finish() in the attempt's
 * last commit, and what to say about it once committed (`held` false: the lease was lost, the
 * new owner decides); or "busy".
 */
export type AttemptEnd<Ending = unknown> =
  | { kind: 'done'; outcome: string; ending: Ending; announce?(held: boolean): void }
  | { kind: 'busy'; reason: string; retryInMs: number };

/** One kind of job as the runner drives it: the queue it lives in and what one attempt does. */
export interface JobAttempts<L extends JobLease, Event extends string = string, Ending = unknown> {
  queue: JobQueue<L, Event, Ending>;
  /** For log lines: "delivery", "order". */
  noun: string;
  /** Ids that name the job in its log lines (never patient data). */
  logFields(lease: L): Record<string, unknown>;
  attempt(context: AttemptContext<L, Event>): Promise<AttemptEnd<Ending>>;
  /** Told about every finished attempt (metrics). */
  onFinished?(finished: AttemptFinished): void;
}

export interface JobLoopDeps {
  log: Logger;
  settings: JobLoopSettings;
  now: () => number;
}

export interface JobLoop {
  /** Look for due work now (deferred to the next turn and coalesced). */
  wake(): void;
  /** False once stop() was called (for /readyz). */
  isRunning(): boolean;
  stop(): Promise<void>;
}

const IDLE_POLL_MS = 5_000;
const LEASE_CHECK_MS = 1_000;

/**
 * Runs one attempt to its recorded end: the kind's outcome, or the failure turned into a verb by
 * decideFailure (retry later, dead, or released without spending the attempt). Its locks are
 * given back in the same commit. Returns the outcome's name. Used by the loop and by commands
 * that run one job now (`orders sync <id>`).
 */
export async function runAttempt<L extends JobLease, Event extends string, Ending>(jobs: JobAttempts<L, Event, Ending>, deps: JobLoopDeps, lease: L, onPause?: (ms: number, code: string) => void): Promise<string> {
  const { queue } = jobs;
  const log = deps.log.child({ ...jobs.logFields(lease), attempt: lease.attempt });
  const started = deps.now();
  const heartbeat = setInterval(() => {
    // A missed renewal (database busy) is harmless: the next one, or the lease expiry, decides.
    void bestEffort(log, false, () => queue.renew(lease, deps.now(), deps.settings.leaseMs));
  }, Math.max(1000, Math.floor(deps.settings.leaseMs / 3)));
  let outcome = 'lease_lost';
  try {
    const end = await jobs.attempt(createAttemptContext(queue, lease, log, deps.now));
    // If recording fails (database busy, closed), the lease expires and the job runs again:
    // every outside write is idempotent, so nothing is lost or duplicated. The ending verbs give
    // the attempt's locks back in the same commit.
    await bestEffort(log, false, async () => {
      if (end.kind === 'busy') {
        const at = deps.now();
        await queue.release(lease, at + end.retryInMs, end.reason, at);
        outcome = 'released';
        jobs.onFinished?.({ outcome: 'released', ms: deps.now() - started, code: end.reason });
      } else {
        const held = await queue.finish(lease, end.ending, deps.now());
        outcome = end.outcome;
        end.announce?.(held);
      }
    });
  } catch (error) {
    await bestEffort(log, false, async () => {
      const recorded = await recordFailure(jobs, deps, lease, toSyncError(error), log, deps.now() - started, onPause);
      outcome = recorded.outcome;
      recorded.announce();
    });
  } finally {
    clearInterval(heartbeat);
    // Normally given back above already; then this changes nothing.
    await bestEffort(log, true, () => queue.releaseLocks(lease));
  }
  return outcome;
}

/**
 * Records the failure as its verb; what is said about it (log lines, the pause) is returned to be
 * done after the commit, so nobody reading the log sees a state the database does not hold yet.
 */
async function recordFailure<L extends JobLease, Event extends string, Ending>(
  jobs: JobAttempts<L, Event, Ending>, deps: JobLoopDeps, lease: L, failure: SyncError, log: Logger, ms: number, onPause: ((ms: number, code: string) => void) | undefined,
): Promise<{ outcome: string; announce(): void }> {
  const { queue, noun } = jobs;
  const at = deps.now();
  const decision = decideFailure(failure, lease.attempt, deps.settings);
  const outcome = decision.action === 'release' ? 'released' : decision.action === 'dead' ? 'dead' : 'failed';
  if (decision.action === 'release') {
    await queue.release(lease, at + decision.delayMs, decision.reason, at);
  } else if (decision.action === 'dead') {
    await queue.dead(lease, { code: failure.code, message: failure.message }, at);
  } else {
    await queue.fail(lease, { code: failure.code, message: failure.message }, at + decision.delayMs, at);
  }
  return {
    outcome,
    announce() {
      jobs.onFinished?.({ outcome, ms, code: failure.code });
      if (decision.action === 'release') {
        if (decision.reason === 'credentials_refused') onPause?.(decision.delayMs, failure.code);
        else log.info({ code: failure.code, retryInMs: decision.delayMs }, 'rate limited; waiting as asked');
      } else if (decision.action === 'dead') {
        log.error({ outcome: 'dead', code: failure.code, retryable: failure.retryable }, `${noun} dead-lettered; a person must look`);
      } else {
        log.warn({ outcome: 'failed', code: failure.code, retryInMs: decision.delayMs }, `${noun} failed; will retry`);
      }
    },
  };
}

/**
 * The loop: claims due jobs up to the concurrency, sleeps until the next is due or it is woken,
 * returns expired leases to the queue, pauses when upstream refuses our credentials, and on
 * stop gives attempts in flight a grace period, then gives their jobs back.
 */
export function startJobLoop<L extends JobLease, Event extends string, Ending>(jobs: JobAttempts<L, Event, Ending>, deps: JobLoopDeps): JobLoop {
  const { queue, noun } = jobs;
  const { now, settings, log } = deps;
  const inFlight = new Map<Promise<unknown>, L>();
  let stopping = false;
  let pausedUntil = 0;
  let leasesCheckedAt = Number.NEGATIVE_INFINITY;
  /** The due time the last sleep was computed for (a job's next attempt, or a lease's end). */
  let sleptUntil: number | undefined;
  let wakeUp: (() => void) | undefined;
  // A wake that arrives while the loop is looking (claiming, asking for the next due time) has
  // no sleep to end yet: remembered, it makes the next sleep return at once, so work stored
  // during a look is not left waiting for the idle poll.
  let wokenDuringLook = false;
  const wake = oncePerTurn(() => {
    wokenDuringLook = true;
    wakeUp?.();
  });

  function pause(ms: number, code: string): void {
    if (now() < pausedUntil) return;
    pausedUntil = now() + ms;
    // Alert level: every attempt would fail the same way until a person fixes the credentials.
    log.fatal({ alert: 'credentials_refused', code, pauseSeconds: ms / 1000 }, `upstream refused our credentials; ${noun} worker paused, no attempts spent`);
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      // This look sees everything stored before it starts; only a wake from now on counts.
      wokenDuringLook = false;
      try {
        if (now() >= pausedUntil) await claimWhileFree();
      } catch (error) {
        // The database busy or unwritable: nothing was claimed; look again shortly.
        log.error({ err: toSyncError(error).message }, `${noun} worker could not claim`);
      }
      if (stopping) break;
      await sleepUntilWoken(await waitMs());
    }
  }

  async function claimWhileFree(): Promise<void> {
    // Leases last minutes; looking for expired ones on every wake would be a transaction each
    // time for nothing. But once the due time the loop slept for has come (it may be another
    // worker's lease ending), look at once: that is the takeover of a dead replica's work.
    if (now() - leasesCheckedAt >= Math.min(LEASE_CHECK_MS, settings.leaseMs / 4) || (sleptUntil !== undefined && now() >= sleptUntil)) {
      await queue.requeueExpired(now(), settings.maxAttempts);
      leasesCheckedAt = now();
    }
    while (!stopping && now() >= pausedUntil && inFlight.size < settings.concurrency) {
      const lease = await queue.claim(now(), settings.leaseMs);
      if (!lease) return;
      const run = runAttempt(jobs, deps, lease, pause).finally(() => {
        inFlight.delete(run);
        wake();
      });
      inFlight.set(run, lease);
    }
  }

  async function waitMs(): Promise<number> {
    if (now() < pausedUntil) return pausedUntil - now();
    if (inFlight.size >= settings.concurrency) return settings.leaseMs;
    const idleMs = settings.idlePollMs ?? IDLE_POLL_MS;
    const due = await Promise.resolve().then(() => queue.nextDueAt()).catch(() => undefined);
    sleptUntil = due;
    const untilDue = due === undefined ? idleMs : Math.max(0, due - now());
    // Also look again before any lease could expire unnoticed.
    return Math.min(untilDue, idleMs, settings.leaseMs);
  }

  function sleepUntilWoken(ms: number): Promise<void> {
    if (wokenDuringLook) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        wakeUp = undefined;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function giveBackUnfinished(): Promise<void> {
    const at = now();
    for (const lease of inFlight.values()) {
      // Given back, not failed: the next start runs it, fenced against this late attempt.
      await bestEffort(log, true, () => queue.release(lease, at, 'shutdown', at));
    }
    log.warn({ released: inFlight.size }, `shutdown grace over; unfinished ${noun} attempts given back to the queue`);
  }

  const running = loop();
  return {
    wake,
    isRunning: () => !stopping,
    async stop() {
      stopping = true;
      wakeUp?.();
      await running;
      const finished = Promise.allSettled([...inFlight.keys()]);
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), settings.shutdownGraceMs).unref());
      if ((await Promise.race([finished, grace])) === 'timeout') await giveBackUnfinished();
    },
  };
}

/**
 * A bookkeeping write that fails (database busy, or closed after stop()) must not crash the
 * process: the lease fences it, and an unrecorded outcome is redone idempotently.
 */
async function bestEffort(log: Logger, quiet: boolean, write: () => unknown): Promise<void> {
  try {
    await write();
  } catch (error) {
    log[quiet ? 'debug' : 'error']({ err: (error as { code?: string }).code ?? toSyncError(error).code }, 'could not record the attempt; the lease will expire and the job run again');
  }
}
