import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, is, isNotNull, lt, lte, SQL, sql } from 'drizzle-orm';
import { appendAuditEvent, countAuditEvents } from './audit.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { placeholdersFor, preparedOnce, setPlaceholder, setPlaceholdersFor } from './prepared-statements.ts';
import { deliveries, type DeliveryState } from './schema.ts';

export type Delivery = typeof deliveries.$inferSelect;

/** Proof of ownership of an in-progress delivery; every later write is fenced by its token. */
export interface Lease {
  reportId: string;
  studyId: string;
  token: string;
  attempt: number;
  expiresAt: number;
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

// A job whose lease keeps expiring may be what takes its worker down (out of memory, a crash):
// after twice MAX_ATTEMPTS expiries it is dead-lettered instead of crash-looping the service.
// Twice, because a service that is restarted often for other reasons also expires leases.
export const LEASE_EXPIRIES_PER_ATTEMPT = 2;

/**
 * Returns expired leases to the queue (their worker died or hung). The outcome of such an
 * attempt is unknown, so it is not counted as one; the retry is safe because FHIR writes are
 * conditional.
 */
export function requeueExpiredLeases(db: Db, now: number, maxAttempts: number): number {
  const maxExpiries = maxAttempts * LEASE_EXPIRIES_PER_ATTEMPT;
  return db.transaction(
    (tx) => {
      const expired = tx
        .select({ reportId: deliveries.reportId })
        .from(deliveries)
        .where(and(eq(deliveries.state, 'in_progress'), lt(deliveries.leaseExpiresAt, now)))
        .all();
      for (const { reportId } of expired) {
        const earlier = countAuditEvents(tx, reportId, 'lease_expired');
        appendAuditEvent(tx, { reportId, event: 'lease_expired', at: now, detail: { expiries: earlier + 1 } });
        const crashLooping = earlier + 1 >= maxExpiries;
        tx.update(deliveries)
          .set(
            crashLooping
              ? { state: 'dead', lastErrorCode: 'lease_expired_repeatedly', lastErrorMessage: `its worker stopped ${maxExpiries} times while delivering it (crash or hang); a person must look`, leaseToken: null, leaseExpiresAt: null, updatedAt: now }
              : { state: 'queued', attempts: sql`max(${deliveries.attempts} - 1, 0)`, leaseToken: null, leaseExpiresAt: null, nextAttemptAt: now, updatedAt: now },
          )
          .where(eq(deliveries.reportId, reportId))
          .run();
        if (crashLooping) appendAuditEvent(tx, { reportId, event: 'dead', at: now, detail: { code: 'lease_expired_repeatedly' } });
      }
      return expired.length;
    },
    { behavior: 'immediate' },
  );
}

/** Claims the most overdue due delivery with a fresh lease; the attempt is counted at claim time. */
export function claimNextDelivery(db: Db, now: number, leaseMs: number): Lease | undefined {
  return db.transaction(
    (tx) => {
      const next = preparedOnce(tx, 'deliveries.nextDue', (db) =>
        db.select({ reportId: deliveries.reportId, studyId: deliveries.studyId, attempts: deliveries.attempts })
          .from(deliveries)
          .where(and(inArray(deliveries.state, ['queued', 'failed']), lte(deliveries.nextAttemptAt, sql.placeholder('now'))))
          .orderBy(asc(deliveries.nextAttemptAt))
          .limit(1)
          .prepare(),
      ).get({ now });
      if (!next) return undefined;
      const lease: Lease = { reportId: next.reportId, studyId: next.studyId, token: randomUUID(), attempt: next.attempts + 1, expiresAt: now + leaseMs };
      preparedOnce(tx, 'deliveries.claim', (db) =>
        db.update(deliveries)
          .set(setPlaceholdersFor(['state', 'attempts', 'leaseToken', 'leaseExpiresAt', 'updatedAt']))
          .where(eq(deliveries.reportId, sql.placeholder('reportId')))
          .prepare(),
      ).run({ state: 'in_progress', attempts: lease.attempt, leaseToken: lease.token, leaseExpiresAt: lease.expiresAt, updatedAt: now, reportId: next.reportId });
      appendAuditEvent(tx, { reportId: next.reportId, event: 'attempt_started', at: now, detail: { attempt: lease.attempt } });
      return lease;
    },
    { behavior: 'immediate' },
  );
}

/** Extends a lease still held; false when it was lost (expired and taken over). */
export function renewLease(db: Db, lease: Lease, now: number, leaseMs: number): boolean {
  const expiresAt = now + leaseMs;
  const { changes } = db
    .update(deliveries)
    .set({ leaseExpiresAt: expiresAt })
    .where(and(eq(deliveries.reportId, lease.reportId), eq(deliveries.leaseToken, lease.token), eq(deliveries.state, 'in_progress')))
    .run();
  if (changes > 0) lease.expiresAt = expiresAt;
  return changes > 0;
}

/** Whether the lease is still ours and unexpired (checked right before writing to FHIR). */
export function holdsLease(db: Db, lease: Lease, now: number): boolean {
  const row = preparedOnce(db, 'deliveries.leaseOf', (db) =>
    db.select({ expiresAt: deliveries.leaseExpiresAt })
      .from(deliveries)
      .where(and(eq(deliveries.reportId, sql.placeholder('reportId')), eq(deliveries.leaseToken, sql.placeholder('token')), eq(deliveries.state, 'in_progress')))
      .prepare(),
  ).get({ reportId: lease.reportId, token: lease.token });
  return row !== undefined && (row.expiresAt ?? 0) > now;
}

export interface DeliveredResult {
  refs: Record<string, string>;
  contentHash: string;
  detail?: Record<string, unknown>;
}

export function markDelivered(db: Db, lease: Lease, result: DeliveredResult, now: number): boolean {
  return finish(db, lease, now, {
    set: { state: 'delivered', fhirRefs: result.refs, contentHash: result.contentHash, deliveredAt: now, lastErrorCode: null, lastErrorMessage: null },
    event: 'delivered',
    detail: { attempt: lease.attempt, fhir: result.refs, contentHash: result.contentHash, ...result.detail },
  });
}

export interface FailureRecord {
  code: string;
  message: string;
}

export function markSkipped(db: Db, lease: Lease, reason: FailureRecord, now: number): boolean {
  return finish(db, lease, now, {
    set: { state: 'skipped', lastErrorCode: reason.code, lastErrorMessage: reason.message },
    event: 'skipped',
    detail: { code: reason.code, reason: reason.message },
  });
}

export function markFailed(db: Db, lease: Lease, failure: FailureRecord, nextAttemptAt: number, now: number): boolean {
  return finish(db, lease, now, {
    set: { state: 'failed', nextAttemptAt, lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: 'attempt_failed',
    detail: { attempt: lease.attempt, code: failure.code, message: failure.message, retryInMs: nextAttemptAt - now },
  });
}

export function markDead(db: Db, lease: Lease, failure: FailureRecord, now: number): boolean {
  return finish(db, lease, now, {
    set: { state: 'dead', lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: 'dead',
    detail: { attempt: lease.attempt, code: failure.code, message: failure.message },
  });
}

/** Gives the job back without spending an attempt (lock busy, shutdown, rate limited). */
export function releaseDelivery(db: Db, lease: Lease, nextAttemptAt: number, reason: string, now: number): boolean {
  return finish(db, lease, now, {
    set: { state: 'queued', nextAttemptAt, attempts: sql`max(${deliveries.attempts} - 1, 0)` },
    event: 'released',
    detail: { attempt: lease.attempt, reason },
  });
}

type FinishSet = Partial<Omit<typeof deliveries.$inferInsert, 'attempts'>> & { attempts?: ReturnType<typeof sql> };

function finish(db: Db, lease: Lease, now: number, change: { set: FinishSet; event: Parameters<typeof appendAuditEvent>[1]['event']; detail: Record<string, unknown> }): boolean {
  return db.transaction(
    (tx) => {
      // Each caller sets the same columns every time, so one statement per event; SQL
      // expressions in `set` are part of it, plain values are bound.
      const values = Object.fromEntries(Object.entries(change.set).filter(([, value]) => !is(value, SQL)));
      const { changes } = preparedOnce(tx, `deliveries.finish.${change.event}`, (db) =>
        db.update(deliveries)
          .set({ ...change.set, ...setPlaceholdersFor(Object.keys(values)), leaseToken: null, leaseExpiresAt: null, updatedAt: setPlaceholder('updatedAt') })
          .where(and(eq(deliveries.reportId, sql.placeholder('reportId')), eq(deliveries.leaseToken, sql.placeholder('token'))))
          .prepare(),
      ).run({ ...values, updatedAt: now, reportId: lease.reportId, token: lease.token });
      // Zero rows: our lease expired and another worker owns the job now; it decides, not us.
      if (changes === 0) return false;
      appendAuditEvent(tx, { reportId: lease.reportId, event: change.event, at: now, detail: change.detail });
      return true;
    },
    { behavior: 'immediate' },
  );
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
  const row = preparedOnce(db, 'deliveries.nextDueAt', (db) =>
    db.select({ at: sql<number | null>`min(${deliveries.nextAttemptAt})` })
      .from(deliveries)
      .where(inArray(deliveries.state, ['queued', 'failed']))
      .prepare(),
  ).get();
  return row?.at ?? undefined;
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
        .set({ state: 'queued', attempts: 0, nextAttemptAt: now, updatedAt: now })
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
