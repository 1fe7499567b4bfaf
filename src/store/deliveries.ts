import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { JobFailure, JobLease } from '../queue/job-queue.ts';
import { appendAuditEvent } from './audit.ts';
import type { JobKind } from './job-kind.ts';
import {
  claimJob, deadJob, failJob, finishJob, holdsJobLease, LEASE_EXPIRIES_PER_ATTEMPT, nextJobDueAt, releaseJob, renewJobLease, requeueExpiredJobs,
} from './leased-jobs.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { placeholdersFor, preparedOnce, setPlaceholder, setPlaceholdersFor } from './prepared-statements.ts';
import { deliveries, type DeliveryState } from './schema.ts';
import type { SqliteJobQueueOptions } from './sqlite-job-queue.ts';

export type Delivery = typeof deliveries.$inferSelect;

/** Proof of ownership of an in-progress delivery; every later write is fenced by its token. */
export interface Lease extends JobLease {
  reportId: string;
  studyId: string;
}

export interface EnqueueInput {
  reportId: string;
  studyId: string;
  source: 'webhook' | 'poll' | 'backfill' | 'cli';
  isCritical?: boolean;
}

/** Inserts a queued delivery unless one exists for the report. Returns whether it was new. */
const ENQUEUE_COLUMNS = ['reportId', 'studyId', 'state', 'nextAttemptAt', 'isCritical', 'source', 'createdAt', 'updatedAt'] as const;

export function enqueueDelivery(tx: DbOrTx, input: EnqueueInput, now: number): boolean {
  const insert = preparedOnce(tx, 'deliveries.enqueue', (db) => db.insert(deliveries).values(placeholdersFor(ENQUEUE_COLUMNS)).onConflictDoNothing().prepare());
  const { changes } = insert.run({
    reportId: input.reportId,
    studyId: input.studyId,
    state: 'queued',
    nextAttemptAt: now,
    isCritical: input.isCritical ?? false,
    source: input.source,
    createdAt: now,
    updatedAt: now,
  });
  if (changes === 0) return false;
  appendAuditEvent(tx, { reportId: input.reportId, event: 'enqueued', at: now, detail: { source: input.source, studyId: input.studyId } });
  return true;
}

/** The delivery job kind on the one leased-job queue: audited under the report id. */
export const DELIVERY_JOBS: JobKind = {
  name: 'deliveries',
  table: deliveries,
  key: deliveries.reportId,
  claimableByPerson: [],
  events: { started: 'attempt_started', expired: 'lease_expired', failed: 'attempt_failed', dead: 'dead', released: 'released' },
  subject: (reportId) => ({ reportId, detail: {} }),
};

export { LEASE_EXPIRIES_PER_ATTEMPT };

export function requeueExpiredLeases(db: Db, now: number, maxAttempts: number): number {
  return requeueExpiredJobs(db, DELIVERY_JOBS, now, maxAttempts);
}

/** Deliveries on the SQLite queue: a lease names its report and study. */
export const DELIVERY_QUEUE: SqliteJobQueueOptions<Lease> = {
  kind: DELIVERY_JOBS,
  claimColumns: { studyId: deliveries.studyId },
  toLease: ({ row, ...lease }) => ({ ...lease, reportId: lease.key, studyId: row.studyId as string }),
};

/** Claims the most overdue due delivery with a fresh lease; the attempt is counted at claim time. */
export function claimNextDelivery(db: Db, now: number, leaseMs: number): Lease | undefined {
  const claimed = claimJob(db, DELIVERY_JOBS, now, leaseMs, DELIVERY_QUEUE.claimColumns);
  return claimed && DELIVERY_QUEUE.toLease(claimed);
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

export function getDelivery(db: DbOrTx, reportId: string): Delivery | undefined {
  return db.select().from(deliveries).where(eq(deliveries.reportId, reportId)).get();
}

export function countDeliveriesByState(db: Db): Record<DeliveryState, number> {
  const counts: Record<DeliveryState, number> = { queued: 0, in_progress: 0, delivered: 0, skipped: 0, failed: 0, dead: 0 };
  const rows = db.select({ state: deliveries.state, n: sql<number>`count(*)` }).from(deliveries).groupBy(deliveries.state).all();
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** Earliest due time among waiting deliveries, so an idle worker sleeps exactly until then. */
export function nextDueAt(db: Db): number | undefined {
  return nextJobDueAt(db, DELIVERY_JOBS);
}

export type RequeueResult = 'requeued' | 'not_found' | 'not_retryable';

/** A person's retry: failed or dead back to the queue with fresh attempts (audited as `retried`). */
export function requeueDelivery(db: Db, reportId: string, now: number, by: string): RequeueResult {
  return requeueFrom(db, reportId, ['failed', 'dead'], 'retried', now, by);
}

/**
 * Delivers a delivered report again (audited as `replayed`). The FHIR writes are conditional,
 * so a replay updates our own resources in place and creates nothing new.
 */
export function replayDelivery(db: Db, reportId: string, now: number, by: string): RequeueResult {
  return requeueFrom(db, reportId, ['delivered'], 'replayed', now, by);
}

function requeueFrom(db: Db, reportId: string, from: DeliveryState[], event: 'retried' | 'replayed', now: number, by: string): RequeueResult {
  return db.transaction(
    (tx) => {
      const row = getDelivery(tx, reportId);
      if (!row) return 'not_found';
      if (!from.includes(row.state)) return 'not_retryable';
      tx.update(deliveries)
        .set({ state: 'queued', attempts: 0, leaseExpiries: 0, nextAttemptAt: now, updatedAt: now })
        .where(and(eq(deliveries.reportId, reportId), eq(deliveries.state, row.state)))
        .run();
      appendAuditEvent(tx, { reportId, event, at: now, detail: { by, previousState: row.state, previousCode: row.lastErrorCode } });
      return 'requeued';
    },
    { behavior: 'immediate' },
  );
}

/**
 * The FHIR references recorded by every delivery of the study that reached the EHR at least once
 * (`delivered_at` is kept through a replay, so a report being delivered again still counts).
 */
export function deliveredRefsOfStudy(db: Db, studyId: string): Record<string, string>[] {
  const rows = preparedOnce(db, 'deliveries.deliveredRefsOfStudy', (db) =>
    db.select({ refs: deliveries.fhirRefs })
      .from(deliveries)
      .where(and(eq(deliveries.studyId, sql.placeholder('studyId')), isNotNull(deliveries.deliveredAt)))
      .prepare(),
  ).all({ studyId });
  return rows.flatMap((row) => (row.refs ? [row.refs] : []));
}

export function isStudyDelivered(db: Db, studyId: string): boolean {
  return db.select({ reportId: deliveries.reportId }).from(deliveries).where(and(eq(deliveries.studyId, studyId), eq(deliveries.state, 'delivered'))).limit(1).get() !== undefined;
}

/** The audit page's patient label, written while the lease is ours; not a state change, so not audited. */
export function recordPatientLabel(db: Db, lease: Lease, label: string): void {
  preparedOnce(db, 'deliveries.label', (db) =>
    db.update(deliveries)
      .set({ patientLabel: setPlaceholder('label') })
      .where(and(eq(deliveries.reportId, sql.placeholder('reportId')), eq(deliveries.leaseToken, sql.placeholder('token'))))
      .prepare(),
  ).run({ label, reportId: lease.reportId, token: lease.token });
}
