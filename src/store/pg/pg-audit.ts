import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { GENESIS, walkAuditChain, type ChainVerdict, type ExpectedHead } from '../audit-chain.ts';
import type { AuditEvent, AuditEventInput, AuditEventName } from '../audit.ts';
import pg from 'pg';
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
//
// The lock is held from its grant to the end of COMMIT, and every other appender waits that
// long. Reading the head here, hashing the rows here and sending them back cost two round trips
// under the lock, each a wake of this process and of the backend on a loaded machine: appends
// are sent whole instead (appendAuditRowsSql), the lock, the rows and the COMMIT in one query
// string, and PostgreSQL links and hashes the rows itself, exactly as chainHash does.

/** Queues the row for the transaction's end (it commits or rolls back with everything else). */
export function appendAuditEventPg(tx: PgTx, input: AuditEventInput): void {
  tx.audits.push(input);
}

/**
 * The statements that append the transaction's queued rows, for the query string that ends with
 * its COMMIT (simple protocol: no parameters, the rows travel as one escaped JSON literal); none
 * when it has none. In READ COMMITTED each statement of the string takes its snapshot when it
 * starts, so the INSERT, after the lock was granted, sees the previous appender's committed head.
 */
export function appendAuditRowsSql(tx: PgTx): string | undefined {
  if (tx.audits.length === 0) return undefined;
  const rows = tx.audits.map((input, index) => auditRowToLink(input, index + 1));
  tx.audits = [];
  return appendLinkedRowsSql(pg.escapeLiteral(JSON.stringify(rows)));
}

/** One row as APPEND_ROWS takes it: `ord` counts from 1 in the order the rows join the chain. */
export interface AuditRowToLink {
  ord: number;
  at: number;
  report_id: string | null;
  event: string;
  detail: string | null;
  rest: string;
}

export function auditRowToLink(input: AuditEventInput, ord: number): AuditRowToLink {
  const detail = input.detail ?? null;
  return {
    ord, at: input.at, report_id: input.reportId, event: input.event, detail: detail === null ? null : JSON.stringify(detail),
    // chainHash hashes JSON.stringify([prevHash, at, reportId, event, detail]): all but the
    // head's hash (hex, nothing to escape) is known here.
    rest: JSON.stringify([input.at, input.reportId, input.event, detail]).slice(1),
  };
}

/**
 * The lock and the INSERT that link rows to the chain's head; `rowsJson` is an SQL expression
 * giving AuditRowToLink[] as JSON text (a literal, or a setting an earlier statement wrote).
 */
export function appendLinkedRowsSql(rowsJson: string): string {
  return `SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK[0]}, ${AUDIT_CHAIN_LOCK[1]}); ${APPEND_ROWS.replace('$rows', () => rowsJson)}`;
}

// The columns are those of schema.ts (audit_events).
const APPEND_ROWS = `
WITH RECURSIVE queued AS (
  SELECT * FROM json_to_recordset($rows::json) AS q (ord int, at bigint, report_id text, event text, detail text, rest text)
), chain (ord, seq, prev_hash, hash) AS (
  SELECT 0, coalesce(head.seq, 0), NULL::text, coalesce(head.hash, '${GENESIS}')
  FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS head ON true
  UNION ALL
  SELECT queued.ord, chain.seq + 1, chain.hash, encode(sha256(convert_to('["' || chain.hash || '",' || queued.rest, 'UTF8')), 'hex')
  FROM chain JOIN queued ON queued.ord = chain.ord + 1
)
INSERT INTO audit_events (seq, at, report_id, event, detail, prev_hash, hash)
SELECT chain.seq, queued.at, queued.report_id, queued.event, queued.detail::json, chain.prev_hash, chain.hash
FROM chain JOIN queued ON queued.ord = chain.ord
ORDER BY chain.seq`;

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
