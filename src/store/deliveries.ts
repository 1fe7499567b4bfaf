import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { JobFailure } from '../queue/job-queue.ts';
import { operatorActionDetail, type OperatorAction } from './operator-action.ts';
import { appendAuditEvent } from './audit.ts';
import { forgetWebhookPdfLinks } from './inbox.ts';
import type { JobKind } from './job-kind.ts';
import {
  claimJob, deadJob, failJob, finishJob, holdsJobLease, LEASE_EXPIRIES_PER_ATTEMPT, nextJobDueAt, releaseJob, renewJobLease, requeueExpiredJobs,
} from './leased-jobs.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { placeholdersFor, preparedOnce, setPlaceholdersFor } from './prepared-statements.ts';
import { deliveries, type DeliveryState } from './schema.ts';
import type { SqliteJobQueueOptions } from './sqlite-job-queue.ts';
import { FIRST_TARGET, RETRYABLE_STATES, type DeliveredRow, type Delivery, type DeliveryEnding, type EnqueueInput, type Lease, type RequeueResult } from './store.ts';

// The row drizzle reads is the store's Delivery, column for column.
const sameShape: (row: typeof deliveries.$inferSelect) => Delivery = (row) => row;
void sameShape;

export { FIRST_TARGET, type Delivery, type EnqueueInput, type Lease, type RequeueResult };

/** The queue's key of one delivery: one per (report, target). */
export function deliveryId(target: string, reportId: string): string {
  return `${target}:${reportId}`;
}

function splitDeliveryId(id: string): { target: string; reportId: string } {
  const at = id.indexOf(':');
  return { target: id.slice(0, at), reportId: id.slice(at + 1) };
}

const ENQUEUE_COLUMNS = ['id', 'reportId', 'target', 'studyId', 'state', 'nextAttemptAt', 'isCritical', 'source', 'createdAt', 'updatedAt'] as const;

/** Inserts a queued delivery per target unless the report already has one there. Returns whether any was new. */
export function enqueueDelivery(tx: DbOrTx, input: EnqueueInput, now: number): boolean {
  const insert = preparedOnce(tx, 'deliveries.enqueue', (db) => db.insert(deliveries).values(placeholdersFor(ENQUEUE_COLUMNS)).onConflictDoNothing().prepare());
  let added = false;
  for (const target of input.targets ?? [FIRST_TARGET]) {
    const { changes } = insert.run({
      id: deliveryId(target, input.reportId),
      reportId: input.reportId,
      target,
      studyId: input.studyId,
      state: 'queued',
      nextAttemptAt: now,
      isCritical: input.isCritical ?? false,
      source: input.source,
      createdAt: now,
      updatedAt: now,
    });
    if (changes === 0) continue;
    added = true;
    appendAuditEvent(tx, { reportId: input.reportId, event: 'enqueued', at: now, detail: { target, source: input.source, studyId: input.studyId, ...(input.action ? operatorActionDetail(input.action) : {}) } });
  }
  return added;
}

/**
 * Deliveries on the one leased-job queue, all targets (requeue of expired leases, a person's
 * tools); audited under the report id with the target in the detail.
 */
export const DELIVERY_JOBS: JobKind = {
  name: 'deliveries',
  table: deliveries,
  key: deliveries.id,
  claimableByPerson: [],
  events: { started: 'attempt_started', expired: 'lease_expired', failed: 'attempt_failed', dead: 'dead', released: 'released' },
  subject: (id) => {
    const { target, reportId } = splitDeliveryId(id);
    return { reportId, detail: { target } };
  },
};

/** One target's deliveries: each target has its own loop, so one that is down delays only itself. */
export function deliveryJobsOf(target: string): JobKind {
  return { ...DELIVERY_JOBS, name: `deliveries.${target}` as JobKind['name'], partition: { column: deliveries.target, value: target } };
}

export { LEASE_EXPIRIES_PER_ATTEMPT };

export function requeueExpiredLeases(db: Db, now: number, maxAttempts: number): number {
  return requeueExpiredJobs(db, DELIVERY_JOBS, now, maxAttempts);
}

/** One target's deliveries on the SQLite queue: a lease names its report, study and target. */
export function deliveryQueueOf(target: string): SqliteJobQueueOptions<Lease, DeliveryEnding> {
  return {
    kind: deliveryJobsOf(target),
    claimColumns: { studyId: deliveries.studyId, reportId: deliveries.reportId },
    toLease: ({ row, ...lease }) => ({ ...lease, reportId: row.reportId as string, studyId: row.studyId as string, target }),
    finish: finishDelivery,
  };
}

/** A delivery attempt's good end; a delivered report's webhook PDF links are dropped with it. */
export function finishDelivery(db: Db, lease: Lease, ending: DeliveryEnding, now: number): boolean {
  switch (ending.kind) {
    case 'delivered':
      return markDelivered(db, lease, ending, now) && forgetLinks(db, lease);
    case 'hl7_delivered':
      return markHl7Delivered(db, lease, ending, now) && forgetLinks(db, lease);
    case 'hl7_rejected':
      return markHl7Rejected(db, lease, ending.controlId, ending.text, now);
    case 'skipped':
      return markSkipped(db, lease, { code: ending.code, message: ending.message }, now);
  }
}

function forgetLinks(db: Db, lease: Lease): true {
  // A used link carries a storage token and is worthless later.
  forgetWebhookPdfLinks(db, lease.reportId);
  return true;
}

/** Claims the most overdue due delivery to `target` with a fresh lease; the attempt is counted at claim time. */
export function claimNextDelivery(db: Db, now: number, leaseMs: number, target: string = FIRST_TARGET): Lease | undefined {
  const queue = deliveryQueueOf(target);
  const claimed = claimJob(db, queue.kind, now, leaseMs, queue.claimColumns);
  return claimed && queue.toLease(claimed);
}

export function renewLease(db: Db, lease: Lease, now: number, leaseMs: number): boolean {
  return renewJobLease(db, DELIVERY_JOBS, lease, now, leaseMs);
}

export function holdsLease(db: Db, lease: Lease, now: number): boolean {
  return holdsJobLease(db, DELIVERY_JOBS, lease, now);
}

export interface DeliveredResult {
  refs: Record<string, string>;
  contentHash: string;
  detail?: Record<string, unknown>;
}

export function markDelivered(db: Db, lease: Lease, result: DeliveredResult, now: number): boolean {
  return finishJob(db, DELIVERY_JOBS, lease, now, {
    set: { state: 'delivered', fhirRefs: result.refs, contentHash: result.contentHash, deliveredAt: now, lastErrorCode: null, lastErrorMessage: null },
    event: 'delivered',
    detail: { fhir: result.refs, contentHash: result.contentHash, ...result.detail },
  });
}

export interface Hl7DeliveredResult {
  controlId: string;
  /** The ACK's own MSH-10; absent when nothing was sent because the content was already accepted. */
  ackControlId: string | undefined;
  contentHash: string;
  detail?: Record<string, unknown>;
}

/** hl7v2: the receiver accepted the message (AA/CA), or had already accepted the same content. */
export function markHl7Delivered(db: Db, lease: Lease, result: Hl7DeliveredResult, now: number): boolean {
  return finishJob(db, DELIVERY_JOBS, lease, now, {
    set: { state: 'delivered', hl7ControlId: result.controlId, hl7AckControlId: result.ackControlId ?? null, contentHash: result.contentHash, deliveredAt: now, lastErrorCode: null, lastErrorMessage: null, rejectionText: null },
    event: 'delivered',
    detail: { hl7: { controlId: result.controlId, ackControlId: result.ackControlId ?? null }, contentHash: result.contentHash, ...result.detail },
  });
}

/**
 * hl7v2: the receiver refused this content (AE/CE). Its text is kept on the row for operators
 * (API and page) and never written to the audit, the logs or an export: it may quote the patient.
 */
export function markHl7Rejected(db: Db, lease: Lease, controlId: string, text: string, now: number): boolean {
  return finishJob(db, DELIVERY_JOBS, lease, now, {
    set: { state: 'dead', hl7ControlId: controlId, lastErrorCode: 'hl7_rejected', lastErrorMessage: 'the receiver refused the message (AE/CE); its answer is kept with the delivery', rejectionText: text },
    event: 'dead',
    detail: { code: 'hl7_rejected', controlId },
  });
}

export type FailureRecord = JobFailure;

export function markSkipped(db: Db, lease: Lease, reason: FailureRecord, now: number): boolean {
  return finishJob(db, DELIVERY_JOBS, lease, now, {
    set: { state: 'skipped', lastErrorCode: reason.code, lastErrorMessage: reason.message },
    event: 'skipped',
    detail: { code: reason.code, reason: reason.message },
  });
}

export function markFailed(db: Db, lease: Lease, failure: FailureRecord, nextAttemptAt: number, now: number): boolean {
  return failJob(db, DELIVERY_JOBS, lease, failure, nextAttemptAt, now);
}

export function markDead(db: Db, lease: Lease, failure: FailureRecord, now: number): boolean {
  return deadJob(db, DELIVERY_JOBS, lease, failure, now);
}

/** Gives the job back without spending an attempt (lock busy, shutdown, rate limited). */
export function releaseDelivery(db: Db, lease: Lease, nextAttemptAt: number, reason: string, now: number): boolean {
  return releaseJob(db, DELIVERY_JOBS, lease, nextAttemptAt, reason, now);
}

export function getDelivery(db: DbOrTx, reportId: string, target: string = FIRST_TARGET): Delivery | undefined {
  return db.select().from(deliveries).where(eq(deliveries.id, deliveryId(target, reportId))).get();
}

/** Every target's delivery of the report. */
export function getDeliveriesOfReport(db: DbOrTx, reportId: string): Delivery[] {
  return db.select().from(deliveries).where(eq(deliveries.reportId, reportId)).all();
}

export function countDeliveriesByState(db: Db, target?: string): Record<DeliveryState, number> {
  const counts: Record<DeliveryState, number> = { queued: 0, in_progress: 0, delivered: 0, skipped: 0, failed: 0, dead: 0 };
  const rows = db.select({ state: deliveries.state, n: sql<number>`count(*)` }).from(deliveries)
    .where(target === undefined ? undefined : eq(deliveries.target, target)).groupBy(deliveries.state).all();
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** Counts by target and state, for `status` and the metrics. */
export function countDeliveriesByTarget(db: Db, targets: readonly string[] = []): Record<string, Record<DeliveryState, number>> {
  const rows = db.select({ target: deliveries.target, state: deliveries.state, n: sql<number>`count(*)` }).from(deliveries).groupBy(deliveries.target, deliveries.state).all();
  const zero = (): Record<DeliveryState, number> => ({ queued: 0, in_progress: 0, delivered: 0, skipped: 0, failed: 0, dead: 0 });
  // The configured targets always appear, with zeros, so a dashboard sees them before any report.
  const byTarget: Record<string, Record<DeliveryState, number>> = Object.fromEntries(targets.map((target) => [target, zero()]));
  for (const row of rows) (byTarget[row.target] ??= zero())[row.state] = row.n;
  return byTarget;
}

/** Earliest due time among waiting deliveries, so an idle worker sleeps exactly until then. */
export function nextDueAt(db: Db): number | undefined {
  return nextJobDueAt(db, DELIVERY_JOBS);
}

/**
 * A person's retry: failed, dead or skipped back to the queue with fresh attempts (audited as
 * `retried`). Without a target, every target of the report in one of those states.
 */
export function requeueDelivery(db: Db, reportId: string, now: number, action: OperatorAction, target?: string): RequeueResult {
  return requeueFrom(db, reportId, target, RETRYABLE_STATES, 'retried', now, action);
}


/**
 * Delivers a delivered report again (audited as `replayed`). Every target is idempotent: FHIR
 * writes are conditional, an HL7 message goes out under the same control id.
 */
export function replayDelivery(db: Db, reportId: string, now: number, action: OperatorAction, target?: string): RequeueResult {
  return requeueFrom(db, reportId, target, ['delivered'], 'replayed', now, action);
}

function requeueFrom(db: Db, reportId: string, target: string | undefined, from: readonly DeliveryState[], event: 'retried' | 'replayed', now: number, action: OperatorAction): RequeueResult {
  return db.transaction(
    (tx) => {
      const rows = target === undefined ? getDeliveriesOfReport(tx, reportId) : [getDelivery(tx, reportId, target)].filter((r) => r !== undefined);
      if (rows.length === 0) return 'not_found';
      const eligible = rows.filter((row) => from.includes(row.state));
      for (const row of eligible) {
        tx.update(deliveries)
          .set({ state: 'queued', attempts: 0, leaseExpiries: 0, nextAttemptAt: now, updatedAt: now })
          .where(and(eq(deliveries.id, row.id), eq(deliveries.state, row.state)))
          .run();
        appendAuditEvent(tx, { reportId, event, at: now, detail: { target: row.target, ...operatorActionDetail(action), previousState: row.state, previousCode: row.lastErrorCode } });
      }
      return eligible.length > 0 ? 'requeued' : 'not_retryable';
    },
    { behavior: 'immediate' },
  );
}

/**
 * What the study's deliveries to `target` recorded when they reached it at least once
 * (`delivered_at` is kept through a replay, so a report being delivered again still counts).
 */
export function deliveredRowsOfStudy(db: Db, studyId: string, target: string): DeliveredRow[] {
  return preparedOnce(db, 'deliveries.deliveredRowsOfStudy', (db) =>
    db.select({ reportId: deliveries.reportId, fhirRefs: deliveries.fhirRefs, contentHash: deliveries.contentHash, hl7ControlId: deliveries.hl7ControlId, state: deliveries.state })
      .from(deliveries)
      .where(and(eq(deliveries.studyId, sql.placeholder('studyId')), eq(deliveries.target, sql.placeholder('target')), isNotNull(deliveries.deliveredAt)))
      .prepare(),
  ).all({ studyId, target });
}

/** The FHIR references recorded by the study's deliveries that reached `target` (never-re-point rule). */
export function deliveredRefsOfStudy(db: Db, studyId: string, target: string = FIRST_TARGET): Record<string, string>[] {
  return deliveredRowsOfStudy(db, studyId, target).flatMap((row) => (row.fhirRefs ? [row.fhirRefs] : []));
}

export function isStudyDelivered(db: Db, studyId: string, target: string = FIRST_TARGET): boolean {
  return db.select({ id: deliveries.id }).from(deliveries)
    .where(and(eq(deliveries.studyId, studyId), eq(deliveries.target, target), eq(deliveries.state, 'delivered'))).limit(1).get() !== undefined;
}

/** The study's other deliveries to `target` still waiting or running (signing-order rule). */
export function pendingDeliveriesOfStudy(db: Db, studyId: string, target: string): { reportId: string }[] {
  return db.select({ reportId: deliveries.reportId }).from(deliveries)
    .where(and(eq(deliveries.studyId, studyId), eq(deliveries.target, target), inArray(deliveries.state, ['queued', 'in_progress', 'failed']))).all();
}
