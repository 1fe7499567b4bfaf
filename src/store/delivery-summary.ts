import { and, desc, eq, gte, inArray, isNotNull, sql } from 'drizzle-orm';
import { countDeliveriesByState } from './deliveries.ts';
import { bucketHourlyOutcomes, firstSummaryHour, HOUR_MS } from './delivery-row-filters.ts';
import type { Db } from './open-store.ts';
import { auditEvents, deliveries } from './schema.ts';
import { WAITING_STATES, type DeliverySummary, type HourlyCount } from './store.ts';


export function summarizeDeliveries(db: Db, now: number): DeliverySummary {
  return {
    counts: countDeliveriesByState(db),
    oldestWaitingCreatedAt: oldestWaitingCreatedAt(db),
    lastDeliveredAt: lastDeliveredAt(db),
    hourly: hourlyOutcomes(db, now),
  };
}

export function oldestWaitingCreatedAt(db: Db): number | null {
  const row = db.select({ at: sql<number | null>`min(${deliveries.createdAt})` }).from(deliveries).where(inArray(deliveries.state, WAITING_STATES)).get();
  return row?.at ?? null;
}

export function lastDeliveredAt(db: Db): number | null {
  const row = db
    .select({ at: deliveries.deliveredAt })
    .from(deliveries)
    .where(and(eq(deliveries.state, 'delivered'), isNotNull(deliveries.deliveredAt)))
    .orderBy(desc(deliveries.deliveredAt))
    .limit(1)
    .get();
  return row?.at ?? null;
}

/**
 * Delivered and failed per hour, from the audit trail: it keeps every attempt, where a delivery
 * row only shows its latest state. "failed" counts failed attempts and dead letters.
 */
export function hourlyOutcomes(db: Db, now: number): HourlyCount[] {
  const firstHour = firstSummaryHour(now);
  const rows = db
    .select({ hour: sql<number>`${auditEvents.at} / ${HOUR_MS}`, event: auditEvents.event, n: sql<number>`count(*)` })
    .from(auditEvents)
    .where(and(gte(auditEvents.at, firstHour), inArray(auditEvents.event, ['delivered', 'attempt_failed', 'dead'])))
    .groupBy(sql`1`, auditEvents.event)
    .all();
  return bucketHourlyOutcomes(rows, firstHour);
}
