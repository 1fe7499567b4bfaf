import type { AvaraClient } from '../avara/avara-client.ts';
import type { Study } from '../avara/schemas.ts';
import type { OperatorAction, Store } from '../store/store.ts';
import { sweepCompletedStudies } from './sweep-completed-studies.ts';
import { createThrottle } from './throttle.ts';
import { acquireBackfillLock, BACKFILL_LOCK_MS, type StaleHolder } from './backfill-lock.ts';

export { BackfillBusyError } from './backfill-lock.ts';

export interface BackfillOptions {
  /** Inclusive day bounds on the report's signedAt, `YYYY-MM-DD` in UTC. */
  since: string;
  until?: string;
  dryRun: boolean;
  maxRequestsPerSecond: number;
  /** DELIVERY_TARGETS: a report is unknown while any target has no delivery of it. */
  targets: readonly string[];
  shouldStop?: () => boolean;
  onProgress?: (progress: BackfillProgress) => void;
  /** The lock was held by a backfill on this host that is no longer running (killed). */
  onLockTakenOver?: (from: StaleHolder) => void;
  /** The operator who ran it, and why: on every `enqueued` audit row this run writes. */
  action?: OperatorAction;
  now?: () => number;
}

export interface BackfillProgress {
  pages: number;
  studies: number;
  requests: number;
  found: number;
  enqueued: number;
  alreadyKnown: number;
  completed: boolean;
  interrupted: boolean;
}

/** `--until` before `--since`: an empty range is a typing mistake, not a request for nothing. */
export class BackfillRangeError extends Error {
  override name = 'BackfillRangeError';
}

export function checkBackfillRange(since: string, until: string | undefined): void {
  if (until !== undefined && until < since) {
    throw new BackfillRangeError(`--until ${until} is before --since ${since}: that range holds no day; nothing was enqueued`);
  }
}

/**
 * `backfill --since`: the poller's full sweep, filtered client-side on signedAt (avara-api.md
 * §6.8: no date filter exists). Studies whose completed reports are all known cost no call;
 * every enqueue is its own transaction, so an interruption leaves the queue consistent.
 */
export async function runBackfill(store: Store, avara: Pick<AvaraClient, 'listStudiesPage' | 'listReports'>, options: BackfillOptions): Promise<BackfillProgress> {
  const now = options.now ?? Date.now;
  checkBackfillRange(options.since, options.until);
  const { holder, tookOverFrom } = await acquireBackfillLock(store, now());
  if (tookOverFrom) options.onLockTakenOver?.(tookOverFrom);
  const fromMs = Date.parse(`${options.since}T00:00:00Z`);
  const toMs = options.until ? Date.parse(`${options.until}T00:00:00Z`) + 86_400_000 : Infinity;
  const throttle = createThrottle(options.maxRequestsPerSecond);
  const progress: BackfillProgress = { pages: 0, studies: 0, requests: 0, found: 0, enqueued: 0, alreadyKnown: 0, completed: false, interrupted: false };

  const visit = async (study: Study): Promise<void> => {
    const unknown: NonNullable<Study['reportIds']> = [];
    for (const r of study.reportIds ?? []) {
      if (r.status === 'completed' && (await isUnknownSomewhere(store, r.reportId, options.targets))) unknown.push(r);
    }
    progress.alreadyKnown += (study.reportIds ?? []).filter((r) => r.status === 'completed').length - unknown.length;
    if (unknown.length === 0) return;
    await throttle();
    progress.requests += 1;
    const list = await avara.listReports(study.studyId);
    for (const report of list.reports) {
      const signedMs = Date.parse(report.signedAt ?? '');
      if (!unknown.some((u) => u.reportId === report.reportId) || !(signedMs >= fromMs && signedMs < toMs)) continue;
      progress.found += 1;
      if (!options.dryRun && (await store.deliveries.enqueue({ reportId: report.reportId, studyId: study.studyId, source: 'backfill', isCritical: report.isCritical === true, targets: options.targets, action: options.action }, now()))) {
        progress.enqueued += 1;
      }
    }
  };

  try {
    const stats = await sweepCompletedStudies(
      avara,
      {
        pageSize: 100,
        throttle: async () => {
          await throttle();
          progress.requests += 1;
        },
        shouldStop: options.shouldStop,
        onPage: async (_next, sweep) => {
          Object.assign(progress, { pages: sweep.pages, studies: sweep.studies });
          await store.locks.extend(holder, now() + BACKFILL_LOCK_MS);
          options.onProgress?.({ ...progress });
        },
      },
      visit,
    );
    progress.completed = stats.completed;
    progress.interrupted = !stats.completed;
    return progress;
  } finally {
    await store.locks.release(holder);
  }
}

/** A report is unknown while any target has no delivery of it. */
async function isUnknownSomewhere(store: Store, reportId: string, targets: readonly string[]): Promise<boolean> {
  const known = new Set((await store.deliveries.ofReport(reportId)).map((row) => row.target));
  return targets.some((target) => !known.has(target));
}
