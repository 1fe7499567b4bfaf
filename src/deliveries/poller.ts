import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AvaraClient } from '../avara/avara-client.ts';
import { toSyncError } from '../errors.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from '../store/locks.ts';
import { FIRST_TARGET } from '../store/deliveries.ts';
import type { Store } from '../store/open-store.ts';
import { POLL_CURSOR_KEY, POLL_LAST_SUCCESS_KEY } from '../store/poll-keys.ts';
import { readSetting, writeSetting } from '../store/settings-values.ts';
import { reconcileStudy } from './reconcile-study.ts';
import { sweepCompletedStudies, type SweepStats } from './sweep-completed-studies.ts';
import { createThrottle } from './throttle.ts';

export interface PollerSettings {
  intervalMs: number;
  maxRequestsPerSecond: number;
  /** DELIVERY_TARGETS: a report found is enqueued for each. */
  targets?: readonly string[];
  pageSize?: number;
}

export interface PollerDeps {
  store: Store;
  avara: Pick<AvaraClient, 'listStudiesPage'>;
  log: Logger;
  settings: PollerSettings;
  now?: () => number;
  onEnqueued?: () => void;
}

export interface SweepOutcome extends SweepStats {
  ran: boolean;
  enqueued: number;
  changedStudies: number;
}

export interface Poller {
  /** Runs one sweep now (or reports ran:false when another process holds the sweep). */
  sweepNow(): Promise<SweepOutcome>;
  stop(): Promise<void>;
}

export { POLL_CURSOR_KEY, POLL_LAST_SUCCESS_KEY };
const SWEEP_LOCK = 'sweep:poller';
const LOCK_MS = 120_000;

/** The reconciliation poller (issue: no signed report is ever missed). */
export function startPoller(deps: PollerDeps): Poller {
  const now = deps.now ?? Date.now;
  const { db } = deps.store;
  const pageSize = deps.settings.pageSize ?? 100;
  let stopping = false;
  let current: Promise<SweepOutcome> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<SweepOutcome> {
    const holder = randomUUID();
    // Never two sweeps at once, even with two processes on one database.
    if (!tryAcquireLocks(db, [SWEEP_LOCK], holder, now() + LOCK_MS, now())) {
      return { ran: false, enqueued: 0, changedStudies: 0, pages: 0, studies: 0, restartedFromZero: false, completed: false };
    }
    let enqueued = 0;
    let changedStudies = 0;
    try {
      const stats = await sweepCompletedStudies(
        deps.avara,
        {
          startCursor: readSetting(db, POLL_CURSOR_KEY),
          pageSize,
          throttle: createThrottle(deps.settings.maxRequestsPerSecond),
          shouldStop: () => stopping,
          // The cursor is saved after each page, so a sweep that fails half-way resumes there.
          onPage: (next) => {
            writeSetting(db, POLL_CURSOR_KEY, next, now());
            extendLocks(db, holder, now() + LOCK_MS);
          },
        },
        (study) => {
          const result = reconcileStudy(db, study, 'poll', now(), deps.settings.targets ?? [FIRST_TARGET]);
          if (result.changed) changedStudies += 1;
          enqueued += result.enqueued.length;
          if (result.enqueued.length > 0) deps.onEnqueued?.();
        },
      );
      if (stats.completed) writeSetting(db, POLL_LAST_SUCCESS_KEY, String(now()), now());
      deps.log.info({ pages: stats.pages, studies: stats.studies, changedStudies, enqueued, completed: stats.completed, restartedFromZero: stats.restartedFromZero }, 'poll sweep finished');
      return { ran: true, enqueued, changedStudies, ...stats };
    } finally {
      releaseLocks(db, holder);
    }
  }

  function sweepNow(): Promise<SweepOutcome> {
    current ??= sweep().finally(() => (current = undefined));
    return current;
  }

  function schedule(delayMs: number): void {
    if (stopping || deps.settings.intervalMs <= 0) return;
    timer = setTimeout(() => {
      sweepNow()
        .catch((error: unknown) => {
          const failure = toSyncError(error);
          deps.log.warn({ code: failure.code, err: failure.message }, 'poll sweep failed; it resumes from its cursor next time');
        })
        .finally(() => schedule(deps.settings.intervalMs));
    }, delayMs);
  }

  // First sweep soon after start (a deployment may have missed webhooks), then every interval.
  schedule(Math.min(deps.settings.intervalMs, 5_000));
  return {
    sweepNow,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await current?.catch(() => undefined);
    },
  };
}
