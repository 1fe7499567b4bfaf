import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Delivery } from './deliveries.ts';
import type { Db } from './open-store.ts';
import { deliveries, type DeliveryState } from './schema.ts';

export interface DeliveryFilter {
  states?: DeliveryState[];
  /** createdAt range in unix ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  critical?: boolean;
  target?: string;
  limit: number;
  cursor?: DeliveryCursor;
}

export interface DeliveryCursor {
  createdAt: number;
  /** The delivery's id (`<target>:<reportId>`): a report has one row per target. */
  id: string;
}

export interface DeliveryPage {
  items: Delivery[];
  nextCursor: string | null;
}

/** Newest first, keyset-paged on (createdAt, id) so pages stay stable while rows arrive. */
export function listDeliveries(db: Db, filter: DeliveryFilter): DeliveryPage {
  const after = filter.cursor;
  const conditions = [
    filter.states?.length ? inArray(deliveries.state, filter.states) : undefined,
    filter.from !== undefined ? gte(deliveries.createdAt, filter.from) : undefined,
    filter.to !== undefined ? lt(deliveries.createdAt, filter.to) : undefined,
    filter.critical !== undefined ? eq(deliveries.isCritical, filter.critical) : undefined,
    filter.target !== undefined ? eq(deliveries.target, filter.target) : undefined,
    after ? sql`(${deliveries.createdAt}, ${deliveries.id}) < (${after.createdAt}, ${after.id})` : undefined,
  ].filter((c) => c !== undefined);
  const rows = db
    .select()
    .from(deliveries)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(filter.limit + 1)
    .all();
  const items = rows.slice(0, filter.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
}

export function encodeCursor(row: DeliveryCursor): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');
}

/** undefined for anything we did not hand out, so callers can answer 400 instead of page 1. */
export function decodeCursor(cursor: string): DeliveryCursor | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    return Number.isSafeInteger(createdAt) && typeof id === 'string' ? { createdAt: createdAt as number, id } : undefined;
  } catch {
    return undefined;
  }
}
