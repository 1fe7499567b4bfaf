import { and, eq, sql } from 'drizzle-orm';
import { appendAuditEvent } from './audit.ts';
import { enqueueDelivery } from './deliveries.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { deliveries, polledStudies } from './schema.ts';
import type { EnqueueInput, PolledStudy, ReconcileResult, StudySighting } from './store.ts';

export type { PolledStudy };

export function getPolledStudy(db: DbOrTx, studyId: string): PolledStudy | undefined {
  return db.select().from(polledStudies).where(eq(polledStudies.studyId, studyId)).get();
}

export function savePolledStudy(db: DbOrTx, row: PolledStudy): void {
  const { studyId, ...rest } = row;
  db.insert(polledStudies).values(row).onConflictDoUpdate({ target: polledStudies.studyId, set: rest }).run();
}

export function countPolledStudies(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(polledStudies).get()?.n ?? 0;
}

export function countStudiesCancelledAfterDelivery(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(polledStudies).where(eq(polledStudies.cancelledFlagged, true)).get()?.n ?? 0;
}

/**
 * Brings one study seen by a sweep into the queue: every completed report without a delivery
 * is enqueued (the same queue as webhooks: whichever finds it first), and lifecycle changes
 * after a delivery are put on the record for a person. One transaction per study.
 */
export function reconcileStudy(db: Db, study: StudySighting, source: EnqueueInput['source'], now: number, targets: readonly string[], revisit = false): ReconcileResult {
  return db.transaction(
    (tx) => {
      const seen = getPolledStudy(tx, study.studyId);
      if (seen?.signature === study.signature && !revisit) return { changed: false, enqueued: [] };
      const enqueued = study.completedReports
        .filter((r) => enqueueDelivery(tx, { reportId: r.reportId, studyId: study.studyId, source, isCritical: r.isCritical, targets }, now))
        .map((r) => r.reportId);
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
      const fields = seen && delivered ? changedFields(seen.demographicHashes, study.demographicHashes) : [];
      if (fields.length > 0) {
        appendAuditEvent(tx, { reportId: delivered!.reportId, event: 'demographics_changed', at: now, detail: { studyId: study.studyId, fields } });
      }
      savePolledStudy(tx, { studyId: study.studyId, signature: study.signature, demographicHashes: study.demographicHashes, cancelledFlagged, seenAt: now });
      return { changed: seen?.signature !== study.signature, enqueued };
    },
    { behavior: 'immediate' },
  );
}

/** Fields seen before whose hash differs now: a correction, named by field, never by value. */
function changedFields(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((field) => before[field] !== undefined && before[field] !== after[field]);
}
