import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './open-store.ts';
import { deliveries } from './schema.ts';
import { encodeCursor, type DeliveryFilter, type DeliveryPage } from './store.ts';

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
