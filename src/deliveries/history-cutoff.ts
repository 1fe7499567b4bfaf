import type { Report, Study } from '../avara/schemas.ts';
import type { Store } from '../store/store.ts';

/**
 * Reports signed before this are history: the poller leaves them to `backfill` (design.md
 * POLL_SINCE). Avara's times have whole seconds, so the first start is taken to its second: a
 * report signed in the same second as the first start is new, never lost to rounding.
 */
export function pollCutoffMs(firstStartedAt: number, sinceMs: number | undefined): number {
  const firstStartSecond = Math.floor(firstStartedAt / 1000) * 1000;
  return sinceMs === undefined ? firstStartSecond : Math.min(firstStartSecond, sinceMs);
}

/** Completed reports of the study that some target has no delivery of yet (what a sweep would enqueue). */
export async function undeliveredCompletedReports(store: Store, study: Study, targets: readonly string[]): Promise<string[]> {
  const undelivered: string[] = [];
  for (const r of study.reportIds ?? []) {
    if (r.status !== 'completed') continue;
    const known = new Set((await store.deliveries.ofReport(r.reportId)).map((row) => row.target));
    if (targets.some((target) => !known.has(target))) undelivered.push(r.reportId);
  }
  return undelivered;
}

export interface CutoffSplit {
  fresh: string[];
  historical: string[];
  /** A lower bound of the historical reports' signing time (for `backfill --since`). */
  earliestHistoricalMs: number | undefined;
}

/**
 * Whether the study's times alone decide it, without listing its reports: a study created at or
 * after the cutoff holds only reports signed after it; one last updated before the cutoff holds
 * none (signing changes the study's studyReportStatus and reportIds, so it updates the study).
 * Between the two, an old study may have an addendum signed since: only signedAt tells.
 */
export function needsReportList(study: Study, cutoffMs: number): boolean {
  return !(timeOf(study.createdAt) >= cutoffMs || timeOf(study.updatedAt) < cutoffMs);
}

/** Splits `reportIds` of one study at the cutoff, listing its reports only when needsReportList. */
export async function splitAtCutoff(
  study: Study,
  reportIds: string[],
  cutoffMs: number,
  listReports: (studyId: string) => Promise<Report[]>,
): Promise<CutoffSplit> {
  if (reportIds.length === 0) return { fresh: [], historical: [], earliestHistoricalMs: undefined };
  if (timeOf(study.createdAt) >= cutoffMs) return { fresh: reportIds, historical: [], earliestHistoricalMs: undefined };
  // A report is never signed before its study exists, so createdAt bounds them from below.
  if (timeOf(study.updatedAt) < cutoffMs) return { fresh: [], historical: reportIds, earliestHistoricalMs: finiteOrUndefined(timeOf(study.createdAt)) };
  const signedAt = new Map((await listReports(study.studyId)).map((r) => [r.reportId, timeOf(r.signedAt)]));
  const split: CutoffSplit = { fresh: [], historical: [], earliestHistoricalMs: undefined };
  for (const reportId of reportIds) {
    const at = signedAt.get(reportId) ?? Number.NaN;
    // No sign time we can read (not listed yet, or malformed): not provably history, so it is
    // treated as new; the delivery itself checks that the report is signed.
    if (Number.isNaN(at) || at >= cutoffMs) {
      split.fresh.push(reportId);
    } else {
      split.historical.push(reportId);
      split.earliestHistoricalMs = Math.min(at, split.earliestHistoricalMs ?? at);
    }
  }
  return split;
}

function timeOf(value: string | null | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}

function finiteOrUndefined(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}
