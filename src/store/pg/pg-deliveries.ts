import { eq } from 'drizzle-orm';
import type { Pool } from 'pg';
import {
  deliveryId, deliveryJobsOf, DELIVERY_JOBS, FIRST_TARGET, type DeliveredResult, type EnqueueInput, type FailureRecord, type Hl7DeliveredResult, type Lease,
} from '../deliveries.ts';
import { operatorActionDetail } from '../operator-action.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import { pgJobKind } from './pg-job-kind.ts';
import type { PgJobQueueOptions } from './pg-job-queue.ts';
import { finishJobPg } from './pg-leased-jobs.ts';
import { givingBackLocksPg } from './pg-locks.ts';
import { wakeOnCommit } from './pg-notify.ts';
import { inTransaction, type PgTx } from './pg-transaction.ts';
import { deliveries, inbox } from './schema.ts';

// Deliveries on PostgreSQL: enqueue, and the verbs that end a delivery attempt (the SQLite
// store's deliveries.ts, the same columns set and the same audit rows).

const ALL_DELIVERIES = pgJobKind(DELIVERY_JOBS);

/**
 * Inserts a queued delivery per target unless the report already has one there (ON CONFLICT: two
 * replicas enqueueing one report at once store it once). Wakes the targets' loops on commit.
 */
export async function enqueueDeliveryPg(tx: PgTx, input: EnqueueInput, now: number): Promise<boolean> {
  const targets = input.targets ?? [FIRST_TARGET];
  const inserted = await tx.db.insert(deliveries)
    .values(targets.map((target) => ({
      id: deliveryId(target, input.reportId), reportId: input.reportId, target, studyId: input.studyId, state: 'queued' as const,
      nextAttemptAt: now, isCritical: input.isCritical ?? false, source: input.source, createdAt: now, updatedAt: now,
    })))
    .onConflictDoNothing()
    .returning({ target: deliveries.target });
  const added = new Set(inserted.map((row) => row.target));
  // Audited in the order of DELIVERY_TARGETS, as SQLite does (RETURNING promises no order).
  for (const target of targets.filter((t) => added.has(t))) {
    appendAuditEventPg(tx, { reportId: input.reportId, event: 'enqueued', at: now, detail: { target, source: input.source, studyId: input.studyId, ...(input.action ? operatorActionDetail(input.action) : {}) } });
    wakeOnCommit(tx, `deliveries.${target}`);
  }
  return added.size > 0;
}

/** One target's deliveries on the PostgreSQL queue: a lease names its report, study and target. */
export function pgDeliveryQueueOf(target: string): PgJobQueueOptions<Lease, DeliveryEndingPg> {
  return {
    kind: deliveryJobsOf(target),
    claimColumns: { studyId: deliveries.studyId, reportId: deliveries.reportId },
    toLease: ({ row, ...lease }) => ({ ...lease, reportId: row.reportId as string, studyId: row.studyId as string, target }),
    finish: (store, lease, ending, now) => finishDeliveryPg(store.pool, lease, ending, now),
  };
}

export function markDeliveredPg(pool: Pool, lease: Lease, result: DeliveredResult, now: number): Promise<boolean> {
  return finishJobPg(pool, ALL_DELIVERIES, lease, now, {
    set: { state: 'delivered', fhirRefs: result.refs, contentHash: result.contentHash, deliveredAt: now, lastErrorCode: null, lastErrorMessage: null },
    event: 'delivered',
    detail: { fhir: result.refs, contentHash: result.contentHash, ...result.detail },
  });
}

export function markHl7DeliveredPg(pool: Pool, lease: Lease, result: Hl7DeliveredResult, now: number): Promise<boolean> {
  return finishJobPg(pool, ALL_DELIVERIES, lease, now, {
    set: { state: 'delivered', hl7ControlId: result.controlId, hl7AckControlId: result.ackControlId ?? null, contentHash: result.contentHash, deliveredAt: now, lastErrorCode: null, lastErrorMessage: null, rejectionText: null },
    event: 'delivered',
    detail: { hl7: { controlId: result.controlId, ackControlId: result.ackControlId ?? null }, contentHash: result.contentHash, ...result.detail },
  });
}

/** The receiver's refusal text is kept on the row only, never audited (it may quote the patient). */
export function markHl7RejectedPg(pool: Pool, lease: Lease, controlId: string, text: string, now: number): Promise<boolean> {
  return finishJobPg(pool, ALL_DELIVERIES, lease, now, {
    set: { state: 'dead', hl7ControlId: controlId, lastErrorCode: 'hl7_rejected', lastErrorMessage: 'the receiver refused the message (AE/CE); its answer is kept with the delivery', rejectionText: text },
    event: 'dead',
    detail: { code: 'hl7_rejected', controlId },
  });
}

export function markSkippedPg(pool: Pool, lease: Lease, reason: FailureRecord, now: number): Promise<boolean> {
  return finishJobPg(pool, ALL_DELIVERIES, lease, now, {
    set: { state: 'skipped', lastErrorCode: reason.code, lastErrorMessage: reason.message },
    event: 'skipped',
    detail: { code: reason.code, reason: reason.message },
  });
}

/** How a delivery attempt ends well (the store interface's DeliveryEnding). */
export type DeliveryEndingPg =
  | { kind: 'delivered'; refs: Record<string, string>; contentHash: string; detail?: Record<string, unknown> }
  | { kind: 'hl7_delivered'; controlId: string; ackControlId: string | undefined; contentHash: string; detail?: Record<string, unknown> }
  | { kind: 'hl7_rejected'; controlId: string; text: string }
  | { kind: 'skipped'; code: string; message: string };

/**
 * Ends a delivery attempt in one commit: its outcome (fenced), the report's webhook PDF links
 * forgotten once delivered (they carry a storage token), and the attempt's locks given back.
 * False when the lease was lost: nothing is recorded, the locks are given back all the same.
 */
export function finishDeliveryPg(pool: Pool, lease: Lease, ending: DeliveryEndingPg, now: number): Promise<boolean> {
  return givingBackLocksPg(pool, lease.token, async () => {
    switch (ending.kind) {
      case 'delivered':
        return forgettingPdfLinks(pool, lease, await markDeliveredPg(pool, lease, ending, now));
      case 'hl7_delivered':
        return forgettingPdfLinks(pool, lease, await markHl7DeliveredPg(pool, lease, ending, now));
      case 'hl7_rejected':
        return markHl7RejectedPg(pool, lease, ending.controlId, ending.text, now);
      case 'skipped':
        return markSkippedPg(pool, lease, ending, now);
    }
  });
}

async function forgettingPdfLinks(pool: Pool, lease: Lease, delivered: boolean): Promise<boolean> {
  if (delivered) await inTransaction(pool, (tx) => tx.db.update(inbox).set({ presignedUrl: null }).where(eq(inbox.reportId, lease.reportId)));
  return delivered;
}
