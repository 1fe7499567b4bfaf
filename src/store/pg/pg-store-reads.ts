import { alias } from 'drizzle-orm/pg-core';
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lte, sql, type SQL } from 'drizzle-orm';
import {
  DELIVERY_STATES, encodeCursor, ORDER_STATES, WAITING_STATES,
  type AuditEvent, type AuditEventName, type Delivery, type DeliveryCounts, type DeliveryFilter, type DeliveryGroupPage, type DeliveryPage, type DeliverySearch,
  type DeliverySummary, type HourlyCount, type OrderErrorRow, type OrderState,
} from '../store.ts';
import { toGroupPage } from '../list-delivery-groups.ts';
import { bucketHourlyOutcomes, deliveryRowConditions, firstSummaryHour, HOUR_MS } from '../delivery-row-filters.ts';
import type { PgDb } from './pg-db.ts';
import { auditEvents, deliveries, orders } from './schema.ts';

// The Store's reads on PostgreSQL, query for query the SQLite ones (list-deliveries.ts,
// list-delivery-groups.ts, delivery-summary.ts, order-status.ts, iterate-audit-events.ts).
// Each is one statement, so one snapshot. count(*) is a bigint, which pg hands over as text.

const AUDIT_PAGE = 1000;
const count = () => sql<number>`count(*)`.mapWith(Number);

const zeroCounts = (): DeliveryCounts => Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as DeliveryCounts;

export async function countDeliveriesByStatePg(db: PgDb, target?: string): Promise<DeliveryCounts> {
  const counts = zeroCounts();
  const rows = await db.select({ state: deliveries.state, n: count() }).from(deliveries)
    .where(target === undefined ? undefined : eq(deliveries.target, target)).groupBy(deliveries.state);
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

export async function countDeliveriesByTargetPg(db: PgDb, targets: readonly string[] = []): Promise<Record<string, DeliveryCounts>> {
  const rows = await db.select({ target: deliveries.target, state: deliveries.state, n: count() }).from(deliveries).groupBy(deliveries.target, deliveries.state);
  // The configured targets always appear, with zeros, so a dashboard sees them before any report.
  const byTarget: Record<string, DeliveryCounts> = Object.fromEntries(targets.map((target) => [target, zeroCounts()]));
  for (const row of rows) (byTarget[row.target] ??= zeroCounts())[row.state] = row.n;
  return byTarget;
}

export async function oldestWaitingCreatedAtPg(db: PgDb): Promise<number | null> {
  const [row] = await db.select({ at: sql<number | null>`min(${deliveries.createdAt})`.mapWith(Number) }).from(deliveries).where(inArray(deliveries.state, WAITING_STATES));
  return row?.at ?? null;
}

export async function lastDeliveredAtPg(db: PgDb): Promise<number | null> {
  const [row] = await db.select({ at: deliveries.deliveredAt }).from(deliveries)
    .where(and(eq(deliveries.state, 'delivered'), isNotNull(deliveries.deliveredAt))).orderBy(desc(deliveries.deliveredAt)).limit(1);
  return row?.at ?? null;
}

export async function summarizeDeliveriesPg(db: PgDb, now: number): Promise<DeliverySummary> {
  const [counts, oldestWaitingCreatedAt, lastDeliveredAt, hourly] = await Promise.all([
    countDeliveriesByStatePg(db), oldestWaitingCreatedAtPg(db), lastDeliveredAtPg(db), hourlyOutcomesPg(db, now),
  ]);
  return { counts, oldestWaitingCreatedAt, lastDeliveredAt, hourly };
}

/** Delivered and failed per hour from the audit trail (every attempt, where a row shows its latest). */
async function hourlyOutcomesPg(db: PgDb, now: number): Promise<HourlyCount[]> {
  const firstHour = firstSummaryHour(now);
  const hour = sql<number>`(${auditEvents.at} / ${HOUR_MS})`.mapWith(Number);
  const rows = await db.select({ hour, event: auditEvents.event, n: count() }).from(auditEvents)
    .where(and(gte(auditEvents.at, firstHour), inArray(auditEvents.event, ['delivered', 'attempt_failed', 'dead'])))
    .groupBy(sql`1`, auditEvents.event);
  return bucketHourlyOutcomes(rows, firstHour);
}

const newer = alias(deliveries, 'newer');

function after(filter: DeliveryFilter): SQL | undefined {
  const cursor = filter.cursor;
  return cursor ? sql`(${deliveries.createdAt}, ${deliveries.id}) < (${cursor.createdAt}, ${cursor.id})` : undefined;
}

/** Newest first, keyset-paged on (createdAt, id). */
export async function listDeliveriesPg(db: PgDb, filter: DeliveryFilter): Promise<DeliveryPage> {
  const rows = await db.select().from(deliveries)
    .where(and(...deliveryRowConditions(deliveries, filter), after(filter)))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(filter.limit + 1);
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
}

/** The audit page's studies, keyset-paged on each study's newest matching row (list-delivery-groups.ts). */
export async function listDeliveryGroupsPg(db: PgDb, filter: DeliveryFilter & { search?: DeliverySearch }): Promise<DeliveryGroupPage> {
  const studies = filter.search ? studiesMatching(filter.search) : undefined;
  const heads = await db.select().from(deliveries)
    .where(and(
      ...deliveryRowConditions(deliveries, filter, studies),
      after(filter),
      sql`not exists (select 1 from ${deliveries} as ${sql.identifier('newer')} where ${and(
        eq(newer.studyId, deliveries.studyId),
        ...deliveryRowConditions(newer, filter),
        sql`(${newer.createdAt}, ${newer.id}) > (${deliveries.createdAt}, ${deliveries.id})`,
      )})`,
    ))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(filter.limit + 1);
  const studyIds = heads.slice(0, filter.limit).map((h) => h.studyId);
  const members = studyIds.length === 0 ? [] : await db.select().from(deliveries).where(and(inArray(deliveries.studyId, studyIds), ...deliveryRowConditions(deliveries, filter, studies)));
  return toGroupPage(heads, members, filter.limit);
}

function studiesMatching(search: DeliverySearch): SQL {
  const match = search.by === 'mrn' ? eq(deliveries.mrnHash, search.mrnHash)
    : search.by === 'report' ? eq(deliveries.reportId, search.value)
    : search.by === 'study' ? eq(deliveries.studyId, search.value)
    : eq(deliveries.accession, search.value);
  return sql`(select ${deliveries.studyId} from ${deliveries} where ${match})`;
}


export function toAuditEventPg(row: typeof auditEvents.$inferSelect): AuditEvent {
  return { seq: row.seq, at: row.at, reportId: row.reportId, event: row.event as AuditEventName, detail: row.detail ?? undefined, prevHash: row.prevHash, hash: row.hash };
}

/** An order's rows: reportId null and detail.order the ImagingStudy id (detail is json, not jsonb). */
export async function listOrderEventsPg(db: PgDb, imagingStudyId: string): Promise<AuditEvent[]> {
  const rows = await db.select().from(auditEvents)
    .where(sql`${auditEvents.reportId} is null and ${auditEvents.detail}->>'order' = ${imagingStudyId}`)
    .orderBy(asc(auditEvents.seq));
  return rows.map(toAuditEventPg);
}

export async function readAuditHashPg(db: PgDb, seq: number): Promise<string | undefined> {
  const [row] = await db.select({ hash: auditEvents.hash }).from(auditEvents).where(eq(auditEvents.seq, seq));
  return row?.hash;
}

export async function countAuditRowsPg(db: PgDb, afterSeq: number, throughSeq: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(auditEvents).where(and(gt(auditEvents.seq, afterSeq), lte(auditEvents.seq, throughSeq)));
  return row?.n ?? 0;
}

/** Rows at or after `sinceMs` in chain order, a page per query so an export of years stays small. */
export async function* iterateAuditEventsPg(db: PgDb, sinceMs: number): AsyncGenerator<AuditEvent, void, undefined> {
  let afterSeq = 0;
  for (;;) {
    const page = await db.select().from(auditEvents).where(and(gt(auditEvents.seq, afterSeq), gte(auditEvents.at, sinceMs))).orderBy(asc(auditEvents.seq)).limit(AUDIT_PAGE);
    yield* page.map(toAuditEventPg);
    if (page.length < AUDIT_PAGE) return;
    afterSeq = page.at(-1)!.seq;
  }
}

export async function countOrdersByStatePg(db: PgDb): Promise<Record<OrderState, number>> {
  const counts = Object.fromEntries(ORDER_STATES.map((s) => [s, 0])) as Record<OrderState, number>;
  for (const row of await db.select({ state: orders.state, n: count() }).from(orders).groupBy(orders.state)) counts[row.state] = row.n;
  return counts;
}

export async function recentOrderErrorsPg(db: PgDb, limit = 10): Promise<OrderErrorRow[]> {
  const rows = await db.select().from(orders)
    .where(and(inArray(orders.state, ['failed', 'dead']), isNotNull(orders.lastErrorCode)))
    .orderBy(desc(orders.updatedAt)).limit(limit);
  return rows.map((o) => ({ imagingStudyId: o.imagingStudyId, state: o.state, attempts: o.attempts, code: o.lastErrorCode ?? '', message: o.lastErrorMessage ?? '', updatedAt: o.updatedAt }));
}

export async function ordersReadingPg(db: PgDb, reference: string): Promise<string[]> {
  const [type, id] = reference.split('/');
  const column = type === 'Patient' ? orders.patientId : orders.serviceRequestId;
  return (await db.select({ id: orders.imagingStudyId }).from(orders).where(eq(column, id ?? ''))).map((r) => r.id);
}

export { count as countAll };
