import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { deliveryRowConditions } from './delivery-row-filters.ts';
import type { Db } from './open-store.ts';
import { deliveries } from './schema.ts';
import { encodeCursor, type Delivery, type DeliveryFilter, type DeliveryGroupPage, type DeliverySearch, type StudyGroup } from './store.ts';

export type { DeliveryGroupPage, DeliverySearch, StudyGroup };

// The same table again, for the rows of a study that are newer than the one at hand.
const newer = alias(deliveries, 'newer');

/**
 * The audit page: `limit` studies per page, newest first by their newest matching delivery, each
 * with all its matching deliveries. A search finds studies (any of their deliveries matching the
 * key), so a report id or an MRN brings its whole study along. Keyset-paged on the newest
 * matching row of each study, so a study is on exactly one page.
 */
export function listDeliveryGroups(db: Db, filter: DeliveryFilter & { search?: DeliverySearch }): DeliveryGroupPage {
  const studies = filter.search ? studiesMatching(filter.search) : undefined;
  const after = filter.cursor;
  const heads = db
    .select()
    .from(deliveries)
    .where(and(
      ...deliveryRowConditions(deliveries, filter, studies),
      after ? sql`(${deliveries.createdAt}, ${deliveries.id}) < (${after.createdAt}, ${after.id})` : undefined,
      sql`not exists (select 1 from ${deliveries} ${sql.identifier('newer')} where ${and(
        eq(newer.studyId, deliveries.studyId),
        ...deliveryRowConditions(newer, filter, undefined),
        sql`(${newer.createdAt}, ${newer.id}) > (${deliveries.createdAt}, ${deliveries.id})`,
      )})`,
    ))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(filter.limit + 1)
    .all();
  const studyIds = heads.slice(0, filter.limit).map((h) => h.studyId);
  const members = studyIds.length === 0 ? [] : db.select().from(deliveries).where(and(inArray(deliveries.studyId, studyIds), ...deliveryRowConditions(deliveries, filter, studies))).all();
  return toGroupPage(heads, members, filter.limit);
}

/**
 * Both stores' last step: `heads` (one row per study, newest first, up to limit + 1 to tell
 * whether a next page exists) and the shown studies' matching rows, as the page.
 */
export function toGroupPage(heads: Delivery[], members: Delivery[], limit: number): DeliveryGroupPage {
  const shown = heads.slice(0, limit);
  const groups = shown.map(({ studyId }) => ({ studyId, deliveries: members.filter((d) => d.studyId === studyId).sort(bySigning) }));
  const last = shown.at(-1);
  return { groups, nextCursor: heads.length > limit && last ? encodeCursor(last) : null };
}

/** The studies with a delivery that carries the key, as a subquery. */
function studiesMatching(search: DeliverySearch): SQL {
  const match = search.by === 'mrn' ? eq(deliveries.mrnHash, search.mrnHash)
    : search.by === 'report' ? eq(deliveries.reportId, search.value)
    : search.by === 'study' ? eq(deliveries.studyId, search.value)
    : eq(deliveries.accession, search.value);
  return sql`(select ${deliveries.studyId} from ${deliveries} where ${match})`;
}

/** A study's deliveries in signing order (unsigned last), the same on SQLite and PostgreSQL. */
export function bySigning(a: Delivery, b: Delivery): number {
  const placed = (d: Delivery) => (d.signedAt === null ? 1 : 0);
  return placed(a) - placed(b) || (a.signedAt ?? 0) - (b.signedAt ?? 0) || a.createdAt - b.createdAt || a.reportId.localeCompare(b.reportId) || a.target.localeCompare(b.target);
}
