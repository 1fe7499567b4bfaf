import type { Study } from '../avara/schemas.ts';
import type { EnqueueInput, ReconcileResult, Store } from '../store/store.ts';
import { demographicHashes, studySignature } from './study-fingerprint.ts';

export type { ReconcileResult };

export interface ReconcileOptions {
  /** False for a report signed before the poller's cutoff: history is left to backfill. */
  mayEnqueue?: (reportId: string) => boolean;
  /** Look again at a study whose signature is unchanged (POLL_SINCE now reaches further back). */
  revisit?: boolean;
}

/**
 * Brings one study seen by a sweep into the queue (the store's reconcile: one transaction per
 * study); what it compares is computed here, from the study, as hashes only.
 */
export function reconcileStudy(
  store: Store, study: Study, source: EnqueueInput['source'], now: number, targets: readonly string[], options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const mayEnqueue = options.mayEnqueue ?? (() => true);
  const completedReports = (study.reportIds ?? [])
    .filter((r) => r.status === 'completed' && mayEnqueue(r.reportId))
    .map((r) => ({ reportId: r.reportId, isCritical: r.isCritical === true }));
  return store.polledStudies.reconcile({
    studyId: study.studyId,
    signature: studySignature(study),
    demographicHashes: demographicHashes(study),
    isCancelled: study.isCancelled,
    completedReports,
  }, source, now, targets, { revisit: options.revisit ?? false });
}
