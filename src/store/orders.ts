import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import { appendAuditEvent, type AuditEventName } from './audit.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { orders } from './schema.ts';

export type Order = typeof orders.$inferSelect;

/** Ownership of an order attempt; every write of the attempt is fenced by its token. */
export interface OrderLease {
  imagingStudyId: string;
  token: string;
  attempt: number;
  expiresAt: number;
  changeSeq: number;
}

export interface OrderChange {
  imagingStudyId: string;
  /** The resource whose new version queues the order: "ImagingStudy/x", "Patient/y", ... */
  resource: string;
  version: string;
  source: 'sweep' | 'cli';
}

/**
 * Queues the order unless this version of the resource was already seen (the sweep's overlap
 * window sees resources twice). A new version gives a dead order fresh attempts: the EHR's
 * record changed, perhaps fixed. Returns whether the order was queued.
 */
export function noteOrderChange(db: Db, change: OrderChange, now: number): boolean {
  return db.transaction((tx) => {
    const row = getOrder(tx, change.imagingStudyId);
    if (row && row.sourceVersions[change.resource] === change.version) return false;
    const sourceVersions = { ...row?.sourceVersions, [change.resource]: change.version };
    if (!row) {
      tx.insert(orders).values({ imagingStudyId: change.imagingStudyId, sourceVersions, state: 'queued', nextAttemptAt: now, createdAt: now, updatedAt: now }).run();
    } else {
      // In progress: the running attempt finishes, sees the new changeSeq and queues again.
      const state = row.state === 'in_progress' ? 'in_progress' : 'queued';
      tx.update(orders)
        .set({ sourceVersions, state, attempts: state === 'queued' ? 0 : row.attempts, nextAttemptAt: now, changeSeq: row.changeSeq + 1, updatedAt: now })
        .where(eq(orders.imagingStudyId, change.imagingStudyId))
        .run();
    }
    appendAuditEvent(tx, { reportId: null, event: 'order_enqueued', at: now, detail: { order: change.imagingStudyId, trigger: change.resource, version: change.version, source: change.source } });
    return true;
  }, { behavior: 'immediate' });
}

/** Orders that read `reference` ("ServiceRequest/x" or "Patient/y"): their change concerns them. */
export function ordersReading(db: Db, reference: string): string[] {
  const [type, id] = reference.split('/');
  const column = type === 'Patient' ? orders.patientId : orders.serviceRequestId;
  return db.select({ id: orders.imagingStudyId }).from(orders).where(eq(column, id ?? '')).all().map((r) => r.id);
}

export function claimNextOrder(db: Db, now: number, leaseMs: number, only?: string): OrderLease | undefined {
  return db.transaction((tx) => {
    const due = and(inArray(orders.state, ['queued', 'failed']), lte(orders.nextAttemptAt, now));
    const next = tx.select().from(orders).where(only ? and(eq(orders.imagingStudyId, only), inArray(orders.state, ['queued', 'failed', 'synced', 'dead'])) : due)
      .orderBy(asc(orders.nextAttemptAt)).limit(1).get();
    if (!next) return undefined;
    const lease: OrderLease = { imagingStudyId: next.imagingStudyId, token: randomUUID(), attempt: next.attempts + 1, expiresAt: now + leaseMs, changeSeq: next.changeSeq };
    tx.update(orders).set({ state: 'in_progress', attempts: lease.attempt, leaseToken: lease.token, leaseExpiresAt: lease.expiresAt, updatedAt: now })
      .where(eq(orders.imagingStudyId, next.imagingStudyId)).run();
    appendAuditEvent(tx, { reportId: null, event: 'order_attempt_started', at: now, detail: { order: next.imagingStudyId, attempt: lease.attempt } });
    return lease;
  }, { behavior: 'immediate' });
}

export function renewOrderLease(db: Db, lease: OrderLease, now: number, leaseMs: number): boolean {
  const expiresAt = now + leaseMs;
  const { changes } = db.update(orders).set({ leaseExpiresAt: expiresAt }).where(fenced(lease)).run();
  if (changes > 0) lease.expiresAt = expiresAt;
  return changes > 0;
}

export function requeueExpiredOrderLeases(db: Db, now: number): number {
  return db.transaction((tx) => {
    const expired = tx.select({ id: orders.imagingStudyId }).from(orders)
      .where(and(eq(orders.state, 'in_progress'), lt(orders.leaseExpiresAt, now))).all();
    for (const { id } of expired) {
      tx.update(orders).set({ state: 'queued', leaseToken: null, leaseExpiresAt: null, nextAttemptAt: now, updatedAt: now }).where(eq(orders.imagingStudyId, id)).run();
      appendAuditEvent(tx, { reportId: null, event: 'order_lease_expired', at: now, detail: { order: id } });
    }
    return expired.length;
  }, { behavior: 'immediate' });
}

/**
 * One fenced step of an attempt and its audit row in one transaction (no row for `event: null`,
 * bookkeeping that changes no state). False when the lease was lost: another worker owns the order.
 */
export function recordOrderStep(
  db: Db, lease: OrderLease, set: Partial<typeof orders.$inferInsert>, event: AuditEventName | null, detail: Record<string, unknown>, now: number,
): boolean {
  return db.transaction((tx) => {
    const { changes } = tx.update(orders).set({ ...set, updatedAt: now }).where(fenced(lease)).run();
    if (changes === 0) return false;
    if (event) appendAuditEvent(tx, { reportId: null, event, at: now, detail: { order: lease.imagingStudyId, attempt: lease.attempt, ...detail } });
    return true;
  }, { behavior: 'immediate' });
}

export type OrderFinish =
  | { kind: 'synced'; detail: Record<string, unknown> }
  | { kind: 'failed'; code: string; message: string; nextAttemptAt: number }
  | { kind: 'dead'; code: string; message: string }
  | { kind: 'released'; reason: string; nextAttemptAt: number };

/** Ends the attempt; a change noted while it ran queues the order again instead of `synced`. */
export function finishOrderAttempt(db: Db, lease: OrderLease, finish: OrderFinish, now: number): boolean {
  const free = { leaseToken: null, leaseExpiresAt: null };
  const requeued = sql`case when ${orders.changeSeq} <> ${lease.changeSeq} then 'queued' else ${finish.kind === 'released' ? 'queued' : finish.kind} end`;
  switch (finish.kind) {
    case 'synced':
      return recordOrderStep(db, lease, { ...free, state: requeued as never, syncedAt: now, lastErrorCode: null, lastErrorMessage: null, nextAttemptAt: now }, 'order_synced', finish.detail, now);
    case 'failed':
      return recordOrderStep(db, lease, { ...free, state: 'failed', nextAttemptAt: finish.nextAttemptAt, lastErrorCode: finish.code, lastErrorMessage: finish.message },
        'order_attempt_failed', { code: finish.code, message: finish.message, retryInMs: finish.nextAttemptAt - now }, now);
    case 'dead':
      return recordOrderStep(db, lease, { ...free, state: requeued as never, nextAttemptAt: now, lastErrorCode: finish.code, lastErrorMessage: finish.message },
        'order_dead', { code: finish.code, message: finish.message }, now);
    case 'released':
      return recordOrderStep(db, lease, { ...free, state: 'queued', nextAttemptAt: finish.nextAttemptAt, attempts: sql`max(${orders.attempts} - 1, 0)` as never },
        'order_released', { reason: finish.reason }, now);
  }
}

export function getOrder(db: DbOrTx, imagingStudyId: string): Order | undefined {
  return db.select().from(orders).where(eq(orders.imagingStudyId, imagingStudyId)).get();
}

/** Earliest due time among waiting orders, so an idle order worker sleeps until then. */
export function nextOrderDueAt(db: Db): number | undefined {
  const row = db.select({ at: sql<number | null>`min(${orders.nextAttemptAt})` }).from(orders).where(or(eq(orders.state, 'queued'), eq(orders.state, 'failed'))).get();
  return row?.at ?? undefined;
}

function fenced(lease: OrderLease) {
  return and(eq(orders.imagingStudyId, lease.imagingStudyId), eq(orders.leaseToken, lease.token), eq(orders.state, 'in_progress'));
}
