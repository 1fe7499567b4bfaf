import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from './open-store.ts';
import { preparedOnce } from './prepared-statements.ts';
import { auditEvents } from './schema.ts';

// Every state change of a delivery is one row here, written in the same transaction as the
// change. Rows carry ids, codes and field names only: never patient data or report text.

export type AuditEventName =
  | 'received'
  | 'enqueued'
  | 'duplicate_ignored'
  | 'attempt_started'
  | 'attempt_failed'
  | 'delivered'
  | 'skipped'
  | 'dead'
  | 'released'
  | 'lease_expired'
  | 'retried'
  | 'replayed'
  // hl7v2: a message went out (control id and type), and a delivery found its content already accepted.
  | 'hl7_sent'
  | 'text_missing'
  | 'study_cancelled_after_delivery'
  | 'demographics_changed'
  // Orders (EHR -> Avara): reportId is null; detail.order is the ImagingStudy's FHIR id.
  | 'order_enqueued'
  | 'order_attempt_started'
  | 'order_study_created'
  | 'order_study_adopted'
  | 'order_study_updated'
  | 'order_study_cancelled'
  | 'order_study_uncancelled'
  | 'order_viewer_created'
  | 'order_viewer_adopted'
  | 'order_synced'
  | 'order_attempt_failed'
  | 'order_dead'
  | 'order_released'
  | 'order_lease_expired'
  | 'order_retried'
  // Synchronous webhooks answered from the EHR: reportId is null; detail has type, outcome, ms, ids and counts.
  | 'sync_webhook_answered';

export interface AuditEventInput {
  reportId: string | null;
  event: AuditEventName;
  at: number;
  detail?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  seq: number;
  prevHash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

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

function chainHash(prevHash: string, at: number, reportId: string | null, event: string, detail: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, at, reportId, event, detail]))
    .digest('hex');
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

/** Walks the whole chain in pages; reports the first row whose hash or link does not match. */
export function verifyAuditChain(db: Db): { ok: true; rows: number } | { ok: false; rows: number; brokenAtSeq: number } {
  let prevHash = GENESIS;
  let afterSeq = 0;
  let rows = 0;
  for (;;) {
    const page = db.select().from(auditEvents).where(gt(auditEvents.seq, afterSeq)).orderBy(asc(auditEvents.seq)).limit(1000).all();
    if (page.length === 0) return { ok: true, rows };
    for (const row of page) {
      const expected = chainHash(prevHash, row.at, row.reportId, row.event, row.detail ?? null);
      if (row.prevHash !== prevHash || row.hash !== expected) return { ok: false, rows, brokenAtSeq: row.seq };
      prevHash = row.hash;
      afterSeq = row.seq;
      rows += 1;
    }
  }
}

function toAuditEvent(row: typeof auditEvents.$inferSelect): AuditEvent {
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
