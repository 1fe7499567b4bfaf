import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AvaraClient } from '../avara/avara-client.ts';
import { toSyncError } from '../errors.ts';
import { FIRST_TARGET, POLL_CURSOR_KEY, POLL_LAST_SUCCESS_KEY, type Store } from '../store/store.ts';
import { beginSweepCutoff, finishSweepCutoff } from './poll-cutoff-state.ts';
import type { Study } from '../avara/schemas.ts';
import { pollCutoffMs, splitAtCutoff, undeliveredCompletedReports } from './history-cutoff.ts';
import { reconcileStudy } from './reconcile-study.ts';
import { studySignature } from './study-fingerprint.ts';
import { sweepCompletedStudies, type SweepStats } from './sweep-completed-studies.ts';
import { createThrottle } from './throttle.ts';

export interface PollerSettings {
  intervalMs: number;
  maxRequestsPerSecond: number;
  /** DELIVERY_TARGETS: a report found is enqueued for each. */
  targets?: readonly string[];
  pageSize?: number;
  /** POLL_SINCE (unix ms): also enqueue reports signed from then, before the first start. */
  sinceMs?: number;
  /** How long the sweep lock lasts unrenewed (default LOCK_MS); a test seam. */
  lockMs?: number;
}

export interface PollerDeps {
  store: Store;
  avara: Pick<AvaraClient, 'listStudiesPage' | 'listReports'>;
  log: Logger;
  settings: PollerSettings;
  now?: () => number;
  onEnqueued?: () => void;
}

export interface SweepOutcome extends SweepStats {
  ran: boolean;
  enqueued: number;
  changedStudies: number;
  /** Completed reports left alone because they were signed before the cutoff (backfill's). */
  historical: number;
}

export interface Poller {
  /** Runs one sweep now (or reports ran:false when another process holds the sweep). */
  sweepNow(): Promise<SweepOutcome>;
  stop(): Promise<void>;
}

export { POLL_CURSOR_KEY, POLL_LAST_SUCCESS_KEY };
const SWEEP_LOCK = 'sweep:poller';
// Short and renewed on a timer while the sweep runs: a replica killed mid-sweep holds the other
// replicas' sweeps up for one LOCK_MS, and a sweep whose renewals stopped (event loop or database
// stalled) finds its lock gone and stops before a second sweep has long overlapped it.
const LOCK_MS = 15_000;

/** The reconciliation poller (issue: no signed report is ever missed). */
export function startPoller(deps: PollerDeps): Poller {
  const now = deps.now ?? Date.now;
  const { store } = deps;
  const pageSize = deps.settings.pageSize ?? 100;
  const targets = deps.settings.targets ?? [FIRST_TARGET];
  const lockMs = deps.settings.lockMs ?? LOCK_MS;
  let stopping = false;
  let current: Promise<SweepOutcome> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<SweepOutcome> {
    const holder = randomUUID();
    // Never two sweeps at once, even with two processes on one database.
    if (!(await store.locks.tryAcquire([SWEEP_LOCK], holder, now() + lockMs, now()))) {
      return { ran: false, enqueued: 0, changedStudies: 0, historical: 0, pages: 0, studies: 0, restartedFromZero: false, completed: false };
    }
    // The sweep's id and its start and end lines (before the lock is given back) are what show,
    // across replicas, that no two sweeps ran at once.
    deps.log.info({ sweep: holder }, 'poll sweep started');
    const lock = holdSweepLock(holder);
    try {
      let enqueued = 0;
      let changedStudies = 0;
      let historical = 0;
      const throttle = createThrottle(deps.settings.maxRequestsPerSecond);
      const cutoff = pollCutoffMs(await store.settings.firstStart(now()), deps.settings.sinceMs);
      const start = await beginSweepCutoff(store, cutoff, now());
      const { revisit } = start;
      const allowedReports = async (study: Study): Promise<Set<string> | undefined> => {
        if (!revisit && (await store.polledStudies.get(study.studyId))?.signature === studySignature(study)) return undefined;
        const split = await splitAtCutoff(study, await undeliveredCompletedReports(store, study, targets), cutoff, async (studyId) => {
          await throttle();
          return (await deps.avara.listReports(studyId)).reports;
        });
        historical += split.historical.length;
        return new Set(split.fresh);
      };
      const stats = await sweepCompletedStudies(
        deps.avara,
        {
          startCursor: start.startCursor,
          pageSize,
          throttle,
          shouldStop: () => stopping || lock.lost(),
          // The cursor is saved after each page, so a sweep that fails half-way resumes there.
          onPage: async (next) => {
            await store.settings.write(POLL_CURSOR_KEY, next, now());
            await store.locks.extend(holder, now() + lockMs);
          },
        },
        async (study) => {
          const allowed = await allowedReports(study);
          const result = await reconcileStudy(store, study, 'poll', now(), targets, { revisit, mayEnqueue: (reportId) => allowed?.has(reportId) ?? false });
          if (result.changed) changedStudies += 1;
          enqueued += result.enqueued.length;
          if (result.enqueued.length > 0) deps.onEnqueued?.();
        },
      );
      if (stats.completed) {
        await store.settings.write(POLL_LAST_SUCCESS_KEY, String(now()), now());
        await finishSweepCutoff(store, cutoff, start, now());
      }
      deps.log.info({ sweep: holder, lockLost: lock.lost(), pages: stats.pages, studies: stats.studies, changedStudies, enqueued, historical, cutoff: new Date(cutoff).toISOString(), completed: stats.completed, restartedFromZero: stats.restartedFromZero }, 'poll sweep finished');
      return { ran: true, enqueued, changedStudies, historical, ...stats };
    } catch (error) {
      const failure = toSyncError(error);
      deps.log.warn({ sweep: holder, code: failure.code, err: failure.message }, 'poll sweep failed; it resumes from its cursor next time');
      throw error;
    } finally {
      await lock.stop();
      await store.locks.release(holder);
    }
  }

  /** Renews the sweep lock three times a lock's length; `lost()` once another holder has it. */
  function holdSweepLock(holder: string): { lost(): boolean; stop(): Promise<void> } {
    let lost = false;
    let renewing: Promise<void> | undefined;
    const renew = async () => {
      await store.locks.extend(holder, now() + lockMs);
      // extend() changes nothing once another replica took the lapsed lock; this says so.
      if ((await store.locks.read(SWEEP_LOCK))?.holder !== holder) {
        lost = true;
        deps.log.warn({ sweep: holder }, 'poll sweep lost its lock (renewals stalled); stopping it, the next sweep resumes from its cursor');
      }
    };
    const timer = setInterval(() => {
      if (renewing || lost) return;
      renewing = renew().catch(() => undefined).finally(() => (renewing = undefined));
    }, lockMs / 3);
    return {
      lost: () => lost,
      async stop() {
        clearInterval(timer);
        await renewing;
      },
    };
  }

  function sweepNow(): Promise<SweepOutcome> {
    current ??= sweep().finally(() => (current = undefined));
    return current;
  }

  function schedule(delayMs: number): void {
    if (stopping || deps.settings.intervalMs <= 0) return;
    timer = setTimeout(() => {
      sweepNow()
        // Logged by the sweep itself, before it gives its lock back.
        .catch(() => undefined)
        .finally(() => schedule(deps.settings.intervalMs));
    }, delayMs);
  }

  // First sweep soon after start (a deployment may have missed webhooks), then every interval.
  schedule(Math.min(deps.settings.intervalMs, 5_000));
  if (deps.settings.intervalMs > 0) {
    void store.settings.firstStart(now()).then((firstStart) => {
      const cutoff = new Date(pollCutoffMs(firstStart, deps.settings.sinceMs)).toISOString();
      deps.log.info({ cutoff }, 'poller enqueues reports signed from the cutoff on (first start, or POLL_SINCE when earlier); older ones only through backfill');
    }, () => undefined);
  }
  return {
    sweepNow,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await current?.catch(() => undefined);
    },
  };
}
