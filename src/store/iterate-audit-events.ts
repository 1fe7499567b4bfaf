import { and, asc, gt, gte } from 'drizzle-orm';
import type { Db } from './open-store.ts';
import { auditEvents } from './schema.ts';

export type AuditRow = typeof auditEvents.$inferSelect;

const PAGE = 1000;

/** Audit rows at or after `sinceMs` in chain order, read in pages so an export of years stays small in memory. */
export function* iterateAuditEvents(db: Db, sinceMs: number): Generator<AuditRow, void, undefined> {
  let afterSeq = 0;
  for (;;) {
    const page = db
      .select()
      .from(auditEvents)
      .where(and(gt(auditEvents.seq, afterSeq), gte(auditEvents.at, sinceMs)))
      .orderBy(asc(auditEvents.seq))
      .limit(PAGE)
      .all();
    yield* page;
    if (page.length < PAGE) return;
    afterSeq = page.at(-1)!.seq;
  }
}
