import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { chainHash, GENESIS, walkAuditChain, type ChainVerdict, type ExpectedHead } from '../audit-chain.ts';
import type { AuditEvent, AuditEventInput, AuditEventName } from '../audit.ts';
import { AUDIT_CHAIN_LOCK } from './advisory-locks.ts';
import type { PgDb, PgTx } from './pg-transaction.ts';
import { auditEvents } from './schema.ts';

// The audit hash chain with several writers. Each row links to the one before it, so appends
// must happen one at a time in commit order: a transaction's rows are held back and written as
// its very last statements, under a transaction-scoped advisory lock that PostgreSQL releases at
// COMMIT or ROLLBACK. The next appender reads the head only after that, so it links to a
// committed row, and numbers its rows after it (no gaps, no sequence). Written last, the lock is
// held for a few milliseconds and never while waiting for another lock (no deadlock through it).
// A transaction reading its own audit rows before its commit will not see them.

/** Queues the row for the transaction's end (it commits or rolls back with everything else). */
export function appendAuditEventPg(tx: PgTx, input: AuditEventInput): void {
  tx.audits.push(input);
}

/** Called by the transaction right before COMMIT. */
export async function writeAuditRows(tx: PgTx): Promise<void> {
  if (tx.audits.length === 0) return;
  // One round trip, two statements: in READ COMMITTED the head is read with a snapshot taken
  // after the lock was granted, so it sees the previous appender's committed rows.
  const [, headResult] = (await tx.client.query(`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK[0]}, ${AUDIT_CHAIN_LOCK[1]}); SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`)) as unknown as [unknown, { rows: { seq: string; hash: string }[] }];
  const head = headResult.rows[0];
  let seq = head ? Number(head.seq) : 0;
  let prevHash = head?.hash ?? GENESIS;
  const rows = tx.audits.map((input) => {
    const detail = input.detail ?? null;
    const hash = chainHash(prevHash, input.at, input.reportId, input.event, detail);
    const row = { seq: (seq += 1), at: input.at, reportId: input.reportId, event: input.event, detail, prevHash, hash };
    prevHash = hash;
    return row;
  });
  tx.audits = [];
  await tx.db.insert(auditEvents).values(rows);
}

/** Walks the whole chain in pages, like the SQLite store's verify. */
export async function verifyAuditChainPg(db: PgDb, expect?: ExpectedHead): Promise<ChainVerdict> {
  const walk = walkAuditChain({ start: 'genesis', ...(expect ? { expect } : {}) });
  let afterSeq = 0;
  for (;;) {
    const page = await db.select().from(auditEvents).where(gt(auditEvents.seq, afterSeq)).orderBy(asc(auditEvents.seq)).limit(1000);
    if (page.length === 0) return walk.verdict();
    for (const row of page) {
      if (!walk.add(row)) return walk.verdict();
      afterSeq = row.seq;
    }
  }
}

export async function listAuditEventsPg(db: PgDb, reportId: string): Promise<AuditEvent[]> {
  const rows = await db.select().from(auditEvents).where(eq(auditEvents.reportId, reportId)).orderBy(asc(auditEvents.seq));
  return rows.map((row) => ({ ...row, event: row.event as AuditEventName, detail: row.detail ?? undefined }));
}

export async function countAuditEventsPg(db: PgDb, reportId: string, event: AuditEventName): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(auditEvents).where(and(eq(auditEvents.reportId, reportId), eq(auditEvents.event, event)));
  return row?.n ?? 0;
}

/** The newest row's seq and hash; undefined while the trail is empty. */
export async function readAuditChainEndPg(db: PgDb): Promise<{ seq: number; hash: string } | undefined> {
  const [row] = await db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
  return row;
}
