import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import { chainHash, GENESIS, walkAuditChain, type ChainVerdict, type ExpectedHead } from './audit-chain.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { preparedOnce } from './prepared-statements.ts';
import { auditEvents } from './schema.ts';
import type { AuditEvent, AuditEventInput, AuditEventName } from './store.ts';

// Every state change of a delivery is one row here, written in the same transaction as the
// change. Rows carry ids, codes and field names only: never patient data or report text.

export type { AuditEvent, AuditEventInput, AuditEventName };

export function appendAuditEvent(tx: DbOrTx, input: AuditEventInput): void {
  const last = preparedOnce(tx, 'audit.last', (db) => db.select({ hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1).prepare()).get();
  const prevHash = last?.hash ?? GENESIS;
  const detail = input.detail ?? null;
  const hash = chainHash(prevHash, input.at, input.reportId, input.event, detail);
  preparedOnce(tx, 'audit.append', (db) =>
    db.insert(auditEvents)
      .values({ at: sql.placeholder('at'), reportId: sql.placeholder('reportId'), event: sql.placeholder('event'), detail: sql.placeholder('detail'), prevHash: sql.placeholder('prevHash'), hash: sql.placeholder('hash') })
      .prepare(),
  ).run({ at: input.at, reportId: input.reportId, event: input.event, detail, prevHash, hash });
}

export function listAuditEvents(db: Db, reportId: string): AuditEvent[] {
  return db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.reportId, reportId))
    .orderBy(asc(auditEvents.seq))
    .all()
    .map(toAuditEvent);
}

export function countAuditEvents(db: DbOrTx, reportId: string, event: AuditEventName): number {
  return db.select({ n: sql<number>`count(*)` }).from(auditEvents).where(and(eq(auditEvents.reportId, reportId), eq(auditEvents.event, event))).get()?.n ?? 0;
}

/**
 * Walks the whole chain in pages; reports the first row whose hash or link does not match, and
 * the head (rows, last hash). Rows deleted from the end leave a shorter chain that is intact in
 * itself: only a head recorded elsewhere (`expect`) tells.
 */
export function verifyAuditChain(db: Db, expect?: ExpectedHead): ChainVerdict {
  const walk = walkAuditChain({ start: 'genesis', ...(expect ? { expect } : {}) });
  let afterSeq = 0;
  for (;;) {
    const page = db.select().from(auditEvents).where(gt(auditEvents.seq, afterSeq)).orderBy(asc(auditEvents.seq)).limit(1000).all();
    if (page.length === 0) return walk.verdict();
    for (const row of page) {
      if (!walk.add(row)) return walk.verdict();
      afterSeq = row.seq;
    }
  }
}

/** The newest row's seq and hash; undefined while the trail is empty. */
export function readAuditChainEnd(db: Db): { seq: number; hash: string } | undefined {
  return db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1).get();
}

export function readAuditHash(db: Db, seq: number): string | undefined {
  return db.select({ hash: auditEvents.hash }).from(auditEvents).where(eq(auditEvents.seq, seq)).get()?.hash;
}

/** Rows with `afterSeq < seq <= throughSeq`. */
export function countAuditRows(db: Db, afterSeq: number, throughSeq: number): number {
  return db.select({ n: sql<number>`count(*)` }).from(auditEvents).where(and(gt(auditEvents.seq, afterSeq), lte(auditEvents.seq, throughSeq))).get()?.n ?? 0;
}

export function toAuditEvent(row: typeof auditEvents.$inferSelect): AuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    reportId: row.reportId,
    event: row.event as AuditEventName,
    detail: row.detail ?? undefined,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
