import { eq, sql, type SQL } from 'drizzle-orm';
import type { Pool } from 'pg';
import { ORDER_JOBS, type OrderChange, type OrderFinish, type OrderLease } from '../orders.ts';
import type { OrderEnding } from '../store.ts';
import { operatorActionDetail } from '../operator-action.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import { pgJobKind } from './pg-job-kind.ts';
import type { PgJobQueueOptions } from './pg-job-queue.ts';
import { deadJobPg, failJobPg, finishJobPg, releaseJobPg } from './pg-leased-jobs.ts';
import { givingBackLocksPg } from './pg-locks.ts';
import { wakeOnCommit } from './pg-notify.ts';
import { inTransaction } from './pg-transaction.ts';
import { orders } from './schema.ts';

// Orders on PostgreSQL: the SQLite store's orders.ts, with a sweep on two replicas in mind.

const ORDERS = pgJobKind(ORDER_JOBS);

/**
 * Queues the order unless this version of the resource was already seen. The row is created if
 * missing (ON CONFLICT: two sweeps noting one order at once create it once) and then locked, so
 * two notes of one order apply one after the other.
 */
export function noteOrderChangePg(pool: Pool, change: OrderChange, now: number): Promise<boolean> {
  return inTransaction(pool, async (tx) => {
    const created = await tx.db.insert(orders)
      .values({ imagingStudyId: change.imagingStudyId, sourceVersions: { [change.resource]: change.version }, state: 'queued', nextAttemptAt: now, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning({ id: orders.imagingStudyId });
    if (created.length === 0) {
      const [row] = await tx.db.select().from(orders).where(eq(orders.imagingStudyId, change.imagingStudyId)).for('update');
      if (!row || row.sourceVersions[change.resource] === change.version) return false;
      const state = row.state === 'in_progress' ? 'in_progress' : 'queued';
      await tx.db.update(orders)
        .set({ sourceVersions: { ...row.sourceVersions, [change.resource]: change.version }, state, attempts: state === 'queued' ? 0 : row.attempts, leaseExpiries: 0, nextAttemptAt: now, changeSeq: row.changeSeq + 1, updatedAt: now })
        .where(eq(orders.imagingStudyId, change.imagingStudyId));
    }
    appendAuditEventPg(tx, { reportId: null, event: 'order_enqueued', at: now, detail: { order: change.imagingStudyId, trigger: change.resource, version: change.version, source: change.source, ...(change.action ? operatorActionDetail(change.action) : {}) } });
    wakeOnCommit(tx, ORDER_JOBS.name);
    return true;
  });
}

// A change noted while the attempt ran makes the order due again instead of synced or dead.
const unlessChanged = (state: 'synced' | 'dead', changeSeq: number): SQL => sql`case when ${orders.changeSeq} <> ${changeSeq} then 'queued' else ${state} end`;

export function finishOrderAttemptPg(pool: Pool, lease: OrderLease, finish: OrderFinish, now: number): Promise<boolean> {
  switch (finish.kind) {
    case 'synced':
      return finishJobPg(pool, ORDERS, lease, now, {
        set: { state: unlessChanged('synced', lease.changeSeq), syncedAt: now, lastErrorCode: null, lastErrorMessage: null, nextAttemptAt: now },
        event: 'order_synced',
        detail: finish.detail,
      });
    case 'failed':
      return failJobPg(pool, ORDERS, lease, finish, finish.nextAttemptAt, now);
    case 'dead':
      return deadJobPg(pool, ORDERS, lease, finish, now, { state: unlessChanged('dead', lease.changeSeq), nextAttemptAt: now });
    case 'released':
      return releaseJobPg(pool, ORDERS, lease, finish.nextAttemptAt, finish.reason, now);
  }
}

/** Orders on the PostgreSQL queue: a lease carries the change count it started from. */
export const PG_ORDER_QUEUE: PgJobQueueOptions<OrderLease, OrderEnding> = {
  kind: ORDER_JOBS,
  claimColumns: { changeSeq: orders.changeSeq },
  toLease: ({ row, ...lease }) => ({ ...lease, imagingStudyId: lease.key, changeSeq: row.changeSeq as number }),
  finish: (store, lease, ending, now) => givingBackLocksPg(store.pool, lease.token, () => finishOrderAttemptPg(store.pool, lease, ending, now)),
  dead: (store, _kind, lease, failure, now) => finishOrderAttemptPg(store.pool, lease, { kind: 'dead', ...failure }, now),
};
