import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { AuditEventName } from './audit.ts';
import type { DeliveryState, deliveries, OrderState, orders } from './schema.ts';

/** Tables that carry the leased-job columns (schema.ts `queuedJobColumns`). */
export type JobTable = typeof deliveries | typeof orders;

/**
 * One kind of leased job in SQLite: where its rows live and how its audit rows are named. The queue's
 * verbs (claim, renew, finish, release, requeue-expired, next-due) are the same for every kind;
 * a kind adds only its own domain verbs (a delivery is delivered or skipped, an order synced).
 */
export interface JobKind {
  name: 'deliveries' | 'orders';
  table: JobTable;
  key: SQLiteColumn;
  /** Only the rows whose `column` holds `value` (one loop per delivery target). */
  partition?: { column: SQLiteColumn; value: string };
  /** States a person may claim one job from directly (`orders sync <id>`), besides the due ones. */
  claimableByPerson: readonly (DeliveryState | OrderState)[];
  events: {
    started: AuditEventName;
    expired: AuditEventName;
    failed: AuditEventName;
    dead: AuditEventName;
    released: AuditEventName;
  };
  /** What the kind's audit rows point at: a delivery by its report id, an order in `detail.order`. */
  subject(key: string): { reportId: string | null; detail: Record<string, unknown> };
}
