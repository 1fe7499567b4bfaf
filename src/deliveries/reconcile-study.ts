import { and, eq } from 'drizzle-orm';
import type { Study } from '../avara/schemas.ts';
import { appendAuditEvent } from '../store/audit.ts';
import { enqueueDelivery, type EnqueueInput } from '../store/deliveries.ts';
import type { Db } from '../store/open-store.ts';
import { getPolledStudy, savePolledStudy } from '../store/polled-studies.ts';
import { deliveries } from '../store/schema.ts';
import { changedFields, demographicHashes, studySignature } from './study-fingerprint.ts';

export interface ReconcileResult {
  changed: boolean;
  enqueued: string[];
}

/**
 * Brings one study seen by a sweep into the queue: every completed report without a delivery
 * is enqueued (the same queue as webhooks: whichever finds it first), and lifecycle changes
 * after a delivery are put on the record for a person. One transaction per study.
 */
export interface ReconcileOptions {
  /** False for a report signed before the poller's cutoff: history is left to backfill. */
  mayEnqueue?: (reportId: string) => boolean;
  /** Look again at a study whose signature is unchanged (POLL_SINCE now reaches further back). */
  revisit?: boolean;
}

export function reconcileStudy(
  db: Db, study: Study, source: EnqueueInput['source'], now: number, targets: readonly string[], options: ReconcileOptions = {},
): ReconcileResult {
  const signature = studySignature(study);
  const mayEnqueue = options.mayEnqueue ?? (() => true);
  return db.transaction(
    (tx) => {
      const seen = getPolledStudy(tx, study.studyId);
      if (seen?.signature === signature && !options.revisit) return { changed: false, enqueued: [] };
      const enqueued = (study.reportIds ?? [])
        .filter((r) => r.status === 'completed' && mayEnqueue(r.reportId))
        .filter((r) => enqueueDelivery(tx, { reportId: r.reportId, studyId: study.studyId, source, isCritical: r.isCritical === true, targets }, now))
        .map((r) => r.reportId);
      const hashes = demographicHashes(study);
      const delivered = tx
        .select({ reportId: deliveries.reportId })
        .from(deliveries)
        .where(and(eq(deliveries.studyId, study.studyId), eq(deliveries.state, 'delivered')))
        .limit(1)
        .get();
      let cancelledFlagged = seen?.cancelledFlagged ?? false;
      if (delivered && study.isCancelled && !cancelledFlagged) {
        // Clinical documents are not withdrawn by a machine: flag it, never retract.
        appendAuditEvent(tx, { reportId: delivered.reportId, event: 'study_cancelled_after_delivery', at: now, detail: { studyId: study.studyId } });
        cancelledFlagged = true;
      }
      const fields = seen && delivered ? changedFields(seen.demographicHashes, hashes) : [];
      if (fields.length > 0) {
        appendAuditEvent(tx, { reportId: delivered!.reportId, event: 'demographics_changed', at: now, detail: { studyId: study.studyId, fields } });
      }
      savePolledStudy(tx, { studyId: study.studyId, signature, demographicHashes: hashes, cancelledFlagged, seenAt: now });
      return { changed: seen?.signature !== signature, enqueued };
    },
    { behavior: 'immediate' },
  );
}
