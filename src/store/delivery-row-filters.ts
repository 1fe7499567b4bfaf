import { eq, gte, inArray, lt, type Column, type SQL } from 'drizzle-orm';
import type { DeliveryFilter, HourlyCount } from './store.ts';

// Shared by both stores: the columns are SQLite's or PostgreSQL's, the conditions the same.

/** The columns of a deliveries table (or an alias of it) that a filter looks at. */
export interface FilteredDeliveryColumns {
  state: Column;
  createdAt: Column;
  isCritical: Column;
  target: Column;
  studyId: Column;
}

/** The filter's conditions on `t`; `studies`, a subquery of study ids, narrows to those. */
export function deliveryRowConditions(t: FilteredDeliveryColumns, filter: DeliveryFilter, studies?: SQL): (SQL | undefined)[] {
  return [
    filter.states?.length ? inArray(t.state, filter.states) : undefined,
    filter.from !== undefined ? gte(t.createdAt, filter.from) : undefined,
    filter.to !== undefined ? lt(t.createdAt, filter.to) : undefined,
    filter.critical !== undefined ? eq(t.isCritical, filter.critical) : undefined,
    filter.target !== undefined ? eq(t.target, filter.target) : undefined,
    studies ? inArray(t.studyId, studies) : undefined,
  ];
}

export const HOUR_MS = 3_600_000;

/** The first of the 24 hours the summary shows, ending with the current one. */
export function firstSummaryHour(now: number): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - 23 * HOUR_MS;
}

/**
 * Audit counts per hour number and event into the 24 hourly buckets: "delivered" counts
 * deliveries, "failed" failed attempts and dead letters.
 */
export function bucketHourlyOutcomes(rows: { hour: number; event: string; n: number }[], firstHour: number): HourlyCount[] {
  const hourly: HourlyCount[] = Array.from({ length: 24 }, (_, i) => ({ hourStart: firstHour + i * HOUR_MS, delivered: 0, failed: 0 }));
  for (const row of rows) {
    const bucket = hourly[Math.floor(row.hour) - firstHour / HOUR_MS];
    if (!bucket) continue;
    if (row.event === 'delivered') bucket.delivered += row.n;
    else bucket.failed += row.n;
  }
  return hourly;
}
