import { Gauge, type Registry } from 'prom-client';
import { countAuditRows, readAuditChainEnd, readAuditHash } from '../store/audit.ts';
import { MIN_HEAD_PREFIX_HEX } from '../store/audit-chain.ts';
import type { Db } from '../store/open-store.ts';

/**
 * The head of the audit chain on every scrape, so monitoring keeps a copy outside the database:
 * rows deleted from the end show as `audit_chain_rows` going down, and any sample can later be
 * checked with `audit verify --expect-head <rows>:<printf %012x of the prefix>`.
 *
 * The hash is a number, not a label: a `hash="..."` label would start a new series with every
 * audit row (thousands a day, each one scrape long). Its first 48 bits fit a float64 exactly,
 * and a forged chain matches them by chance once in 2.8e14.
 */
export function registerAuditChainGauges(db: Db, prefix: string, registers: Registry[]): void {
  const head = trackChainHead(db);
  new Gauge({
    name: `${prefix}audit_chain_rows`, help: 'Rows in the audit hash chain; going down means rows were deleted', registers,
    collect() {
      this.set(head().rows);
    },
  });
  new Gauge({
    name: `${prefix}audit_chain_head_hash_prefix`, help: 'First 48 bits of the newest audit row\'s hash as a number (0 while empty); with audit_chain_rows, a head for audit verify --expect-head', registers,
    collect() {
      this.set(Number.parseInt(head().hash.slice(0, MIN_HEAD_PREFIX_HEX), 16));
    },
  });
}

/**
 * count(*) over years of audit rows on every scrape would read them all: count only the rows
 * after the head seen last time, as long as that row is still there unchanged. When it is not
 * (the newest rows were deleted, perhaps with others appended since), count again from scratch.
 */
function trackChainHead(db: Db): () => { rows: number; hash: string } {
  let counted = { seq: 0, hash: '', rows: 0 };
  return () => {
    const end = readAuditChainEnd(db);
    if (!end) {
      counted = { seq: 0, hash: '', rows: 0 };
      return { rows: 0, hash: '0' };
    }
    if (counted.seq > 0 && readAuditHash(db, counted.seq) !== counted.hash) counted = { seq: 0, hash: '', rows: 0 };
    counted = { seq: end.seq, hash: end.hash, rows: counted.rows + countAuditRows(db, counted.seq, end.seq) };
    return { rows: counted.rows, hash: end.hash };
  };
}
