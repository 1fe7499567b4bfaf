import { Gauge, type Registry } from 'prom-client';
import { MIN_HEAD_PREFIX_HEX, type Store } from '../store/store.ts';

/**
 * The head of the audit chain on every scrape, so monitoring keeps a copy outside the database:
 * rows deleted from the end show as `audit_chain_rows` going down, and any sample can later be
 * checked with `audit verify --expect-head <rows>:<printf %012x of the prefix>`.
 *
 * The hash is a number, not a label: a `hash="..."` label would start a new series with every
 * audit row (thousands a day, each one scrape long). Its first 48 bits fit a float64 exactly,
 * and a forged chain matches them by chance once in 2.8e14.
 */
export function registerAuditChainGauges(store: Store, prefix: string, registers: Registry[]): void {
  const head = trackChainHead(store);
  new Gauge({
    name: `${prefix}audit_chain_rows`, help: 'Rows in the audit hash chain; going down means rows were deleted', registers,
    async collect() {
      this.set((await head()).rows);
    },
  });
  new Gauge({
    name: `${prefix}audit_chain_head_hash_prefix`, help: 'First 48 bits of the newest audit row\'s hash as a number (0 while empty); with audit_chain_rows, a head for audit verify --expect-head', registers,
    async collect() {
      this.set(Number.parseInt((await head()).hash.slice(0, MIN_HEAD_PREFIX_HEX), 16));
    },
  });
}

/**
 * count(*) over years of audit rows on every scrape would read them all: count only the rows
 * after the head seen last time, as long as that row is still there unchanged. When it is not
 * (the newest rows were deleted, perhaps with others appended since), count again from scratch.
 */
function trackChainHead(store: Store): () => Promise<{ rows: number; hash: string }> {
  let counted = { seq: 0, hash: '', rows: 0 };
  return async () => {
    // Both gauges may collect at once: each works from the count it started with.
    let base = counted;
    const end = await store.audit.chainEnd();
    if (!end) {
      counted = { seq: 0, hash: '', rows: 0 };
      return { rows: 0, hash: '0' };
    }
    if (base.seq > 0 && (await store.audit.hashAt(base.seq)) !== base.hash) base = { seq: 0, hash: '', rows: 0 };
    counted = { seq: end.seq, hash: end.hash, rows: base.rows + (await store.audit.countRows(base.seq, end.seq)) };
    return { rows: counted.rows, hash: end.hash };
  };
}
