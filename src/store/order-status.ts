import { and, asc, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { appendAuditEvent, toAuditEvent } from './audit.ts';
import type { Db } from './open-store.ts';
import { operatorActionDetail, type OperatorAction } from './operator-action.ts';
import { auditEvents, orders, ORDER_STATES, type OrderState } from './schema.ts';
import type { AuditEvent, OrderErrorRow } from './store.ts';

export function countOrdersByState(db: Db): Record<OrderState, number> {
  const counts = Object.fromEntries(ORDER_STATES.map((s) => [s, 0])) as Record<OrderState, number>;
  for (const row of db.select({ state: orders.state, n: sql<number>`count(*)` }).from(orders).groupBy(orders.state).all()) counts[row.state] = row.n;
  return counts;
}

/** The most recently failed or dead orders with their error (codes and element names only). */
export function recentOrderErrors(db: Db, limit = 10): OrderErrorRow[] {
  return db.select().from(orders)
    .where(and(inArray(orders.state, ['failed', 'dead']), isNotNull(orders.lastErrorCode)))
    .orderBy(desc(orders.updatedAt)).limit(limit).all()
    .map((o) => ({ imagingStudyId: o.imagingStudyId, state: o.state, attempts: o.attempts, code: o.lastErrorCode ?? '', message: o.lastErrorMessage ?? '', updatedAt: o.updatedAt }));
}

/** A person's retry: failed and dead orders (or one of them) back to the queue with fresh attempts. */
export function requeueOrders(db: Db, now: number, action: OperatorAction, imagingStudyId?: string): number {
  return db.transaction((tx) => {
    const rows = tx.select({ id: orders.imagingStudyId, state: orders.state, code: orders.lastErrorCode }).from(orders)
      .where(and(inArray(orders.state, ['failed', 'dead']), imagingStudyId ? eq(orders.imagingStudyId, imagingStudyId) : undefined)).all();
    for (const row of rows) {
      tx.update(orders).set({ state: 'queued', attempts: 0, nextAttemptAt: now, updatedAt: now }).where(and(eq(orders.imagingStudyId, row.id), eq(orders.state, row.state))).run();
      appendAuditEvent(tx, { reportId: null, event: 'order_retried', at: now, detail: { order: row.id, ...operatorActionDetail(action), previousState: row.state, previousCode: row.code } });
    }
    return rows.length;
  }, { behavior: 'immediate' });
}

/** An order's audit trail, oldest first (order events carry the ImagingStudy id in detail.order). */
export function listOrderEvents(db: Db, imagingStudyId: string): AuditEvent[] {
  return db.select().from(auditEvents)
    .where(sql`${auditEvents.reportId} is null and json_extract(${auditEvents.detail}, '$.order') = ${imagingStudyId}`)
    .orderBy(asc(auditEvents.seq)).all()
    .map(toAuditEvent);
}
