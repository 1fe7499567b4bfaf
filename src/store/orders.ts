import { eq, sql } from 'drizzle-orm';
import type { JobKind } from './job-kind.ts';
import type { SqliteJobQueueOptions } from './sqlite-job-queue.ts';
import {
  claimJob, deadJob, failJob, finishJob, nextJobDueAt, recordJobStep, releaseJob, renewJobLease, requeueExpiredJobs,
} from './leased-jobs.ts';
import { appendAuditEvent, type AuditEventName } from './audit.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { operatorActionDetail } from './operator-action.ts';
import { orders } from './schema.ts';
import type { Order, OrderChange, OrderEnding, OrderLease } from './store.ts';

// The row drizzle reads is the store's Order, column for column.
const sameShape: (row: typeof orders.$inferSelect) => Order = (row) => row;
void sameShape;

export type { Order, OrderChange, OrderLease };

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
        .set({ sourceVersions, state, attempts: state === 'queued' ? 0 : row.attempts, leaseExpiries: 0, nextAttemptAt: now, changeSeq: row.changeSeq + 1, updatedAt: now })
        .where(eq(orders.imagingStudyId, change.imagingStudyId))
        .run();
    }
    appendAuditEvent(tx, { reportId: null, event: 'order_enqueued', at: now, detail: { order: change.imagingStudyId, trigger: change.resource, version: change.version, source: change.source, ...(change.action ? operatorActionDetail(change.action) : {}) } });
    return true;
  }, { behavior: 'immediate' });
}

/** Orders that read `reference` ("ServiceRequest/x" or "Patient/y"): their change concerns them. */
export function ordersReading(db: Db, reference: string): string[] {
  const [type, id] = reference.split('/');
  const column = type === 'Patient' ? orders.patientId : orders.serviceRequestId;
  return db.select({ id: orders.imagingStudyId }).from(orders).where(eq(column, id ?? '')).all().map((r) => r.id);
}

/** The order job kind on the one leased-job queue: audited with `detail.order`, events `order_*`. */
export const ORDER_JOBS: JobKind = {
  name: 'orders',
  table: orders,
  key: orders.imagingStudyId,
  // `orders sync <id>`: a person may run one order now, whatever it last did.
  claimableByPerson: ['synced', 'dead'],
  events: { started: 'order_attempt_started', expired: 'order_lease_expired', failed: 'order_attempt_failed', dead: 'order_dead', released: 'order_released' },
  subject: (imagingStudyId) => ({ reportId: null, detail: { order: imagingStudyId } }),
};

/** Orders on the SQLite queue: a lease carries the change count it started from. */
export const ORDER_QUEUE: SqliteJobQueueOptions<OrderLease, OrderEnding> = {
  kind: ORDER_JOBS,
  claimColumns: { changeSeq: orders.changeSeq },
  toLease: ({ row, ...lease }) => ({ ...lease, imagingStudyId: lease.key, changeSeq: row.changeSeq as number }),
  finish: (db, lease, ending, now) => finishOrderAttempt(db, lease, ending, now),
  dead: (db, lease, failure, now) => finishOrderAttempt(db, lease, { kind: 'dead', ...failure }, now),
};

export function claimNextOrder(db: Db, now: number, leaseMs: number, only?: string): OrderLease | undefined {
  const claimed = claimJob(db, ORDER_JOBS, now, leaseMs, ORDER_QUEUE.claimColumns, only);
  return claimed && ORDER_QUEUE.toLease(claimed);
}

export function renewOrderLease(db: Db, lease: OrderLease, now: number, leaseMs: number): boolean {
  return renewJobLease(db, ORDER_JOBS, lease, now, leaseMs);
}

export function requeueExpiredOrderLeases(db: Db, now: number, maxAttempts: number): number {
  return requeueExpiredJobs(db, ORDER_JOBS, now, maxAttempts);
}

/**
 * One fenced step of an attempt and its audit row in one transaction (no row for `event: null`,
 * bookkeeping that changes no state). False when the lease was lost: another worker owns the order.
 */
export function recordOrderStep(
  db: Db, lease: OrderLease, set: Partial<typeof orders.$inferInsert>, event: AuditEventName | null, detail: Record<string, unknown>, now: number,
): boolean {
  return recordJobStep(db, ORDER_JOBS, lease, set, event, detail, now);
}

export type OrderFinish =
  | { kind: 'synced'; detail: Record<string, unknown> }
  | { kind: 'failed'; code: string; message: string; nextAttemptAt: number }
  | { kind: 'dead'; code: string; message: string }
  | { kind: 'released'; reason: string; nextAttemptAt: number };

// A change noted while the attempt ran (a new FHIR version) makes the order due again at once,
// instead of synced or dead on what it read before the change.
const UNLESS_CHANGED = (state: 'synced' | 'dead') => sql`case when ${orders.changeSeq} <> ${sql.placeholder('changeSeq')} then 'queued' else ${state} end`;

/** Ends the attempt; a change noted while it ran queues the order again instead of `synced`. */
export function finishOrderAttempt(db: Db, lease: OrderLease, finish: OrderFinish, now: number): boolean {
  const params = { changeSeq: lease.changeSeq };
  switch (finish.kind) {
    case 'synced':
      return finishJob(db, ORDER_JOBS, lease, now, {
        set: { state: UNLESS_CHANGED('synced'), syncedAt: now, lastErrorCode: null, lastErrorMessage: null, nextAttemptAt: now },
        event: 'order_synced',
        detail: finish.detail,
        params,
      });
    case 'failed':
      return failJob(db, ORDER_JOBS, lease, finish, finish.nextAttemptAt, now);
    case 'dead':
      return deadJob(db, ORDER_JOBS, lease, finish, now, { set: { state: UNLESS_CHANGED('dead'), nextAttemptAt: now }, params });
    case 'released':
      return releaseJob(db, ORDER_JOBS, lease, finish.nextAttemptAt, finish.reason, now);
  }
}

export function getOrder(db: DbOrTx, imagingStudyId: string): Order | undefined {
  return db.select().from(orders).where(eq(orders.imagingStudyId, imagingStudyId)).get();
}

/** Earliest due time among waiting orders, so an idle order worker sleeps until then. */
export function nextOrderDueAt(db: Db): number | undefined {
  return nextJobDueAt(db, ORDER_JOBS);
}
