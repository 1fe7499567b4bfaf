import { and, asc, gt, gte } from 'drizzle-orm';
import { toAuditEvent } from './audit.ts';
import type { Db } from './open-store.ts';
import { auditEvents } from './schema.ts';
import type { AuditEvent } from './store.ts';

const PAGE = 1000;

/** Audit rows at or after `sinceMs` in chain order, read in pages so an export of years stays small in memory. */
export function* iterateAuditEvents(db: Db, sinceMs: number): Generator<AuditEvent, void, undefined> {
  let afterSeq = 0;
  for (;;) {
    const page = db
      .select()
      .from(auditEvents)
      .where(and(gt(auditEvents.seq, afterSeq), gte(auditEvents.at, sinceMs)))
      .orderBy(asc(auditEvents.seq))
      .limit(PAGE)
      .all();
    yield* page.map(toAuditEvent);
    if (page.length < PAGE) return;
    afterSeq = page.at(-1)!.seq;
  }
}
