import { count } from 'drizzle-orm';
import { countDeliveriesByState } from '../../src/store/deliveries.ts';
import type { Db } from '../../src/store/open-store.ts';
import { auditEvents } from '../../src/store/schema.ts';

/**
 * A progress probe for waits on the delivery queue (test/support/wait-for.ts): every claim,
 * release, retry and outcome appends an audit event, so a trail that stopped growing with work
 * left means the queue is stuck, not slow.
 */
export function queueProgress(db: Db): { auditEvents: number; states: Record<string, number> } {
  return {
    auditEvents: db.select({ n: count() }).from(auditEvents).get()?.n ?? 0,
    states: countDeliveriesByState(db),
  };
}
