import type { Pool } from 'pg';
import { inTransaction, transactionOfEach, type Settled } from './pg-transaction.ts';

// Group commit for writes that arrive together (webhooks on concurrent connections), as SQLite's
// group-commit.ts. On PostgreSQL it matters for another reason: every transaction that writes
// audit rows holds the chain's lock through its COMMIT (pg-audit.ts), so durable commits that
// each wait for their WAL flush go one flush at a time; committed together they share it. While
// one group commits, the next gathers. Nobody is answered before the commit holding their write.

export interface PgGroupCommit {
  /**
   * Runs `write` (store calls, which join the group's transaction) and settles once it is
   * committed. `orderKey` (the webhook id): a group runs its writes in key order, so two
   * replicas' groups holding the same webhooks take their rows in the same order and do not
   * deadlock. A write may run more than once: when its group's transaction is rolled back
   * (another write failed, a deadlock), it runs again in the next.
   */
  run<T>(write: () => Promise<T>, orderKey?: string): Promise<T>;
}

interface Waiting {
  write: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  retries: number;
  orderKey: string | undefined;
}

// Two replicas' groups may still take the same rows in opposite orders (two webhooks of one
// report); PostgreSQL then aborts one statement as a deadlock, and that write alone runs again.
const DEADLOCK = '40P01';
const MAX_RETRIES = 3;

export function createPgGroupCommit(pool: Pool, options: { maxGroup?: number } = {}): PgGroupCommit {
  const maxGroup = options.maxGroup ?? 64;
  let waiting: Waiting[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    while (waiting.length > 0) {
      const group = waiting.slice(0, maxGroup).sort(byOrderKey);
      waiting = waiting.slice(maxGroup);
      let outcomes;
      try {
        outcomes = await commitGroup(pool, group.map((item) => item.write));
      } catch (error) {
        // Nothing of the group was committed.
        for (const item of group) item.reject(error);
        continue;
      }
      group.forEach((item, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) item.resolve(outcome.value);
        else if (isDeadlock(outcome.error) && item.retries++ < MAX_RETRIES) waiting.push(item);
        else item.reject(outcome.error);
      });
    }
    flushing = false;
  }

  return {
    run<T>(write: () => Promise<T>, orderKey?: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ write, resolve: resolve as (value: unknown) => void, reject, retries: 0, orderKey });
        if (flushing) return;
        flushing = true;
        // After the event loop has read what else has arrived.
        setImmediate(() => void flush());
      });
    },
  };
}

/**
 * The group's writes in one transaction, first without savepoints (two round trips fewer per
 * write: SAVEPOINT and RELEASE), since a write almost never fails: a duplicate is an answer, not
 * an error. When one does fail, that transaction is rolled back whole and the group runs again,
 * each write in its own savepoint, so that the failing write is rolled back alone.
 */
async function commitGroup(pool: Pool, writes: (() => Promise<unknown>)[]): Promise<Settled[]> {
  const settle = (work: () => Promise<unknown>) => inTransaction(pool, work).then((value): Settled => ({ ok: true, value }), (error: unknown): Settled => ({ ok: false, error }));
  if (writes.length === 1) return [await settle(writes[0]!)];
  const together = await settle(async () => {
    const values: unknown[] = [];
    for (const write of writes) values.push(await write());
    return values;
  });
  if (together.ok) return (together.value as unknown[]).map((value): Settled => ({ ok: true, value }));
  return transactionOfEach(pool, writes);
}

function byOrderKey(x: Waiting, y: Waiting): number {
  if (x.orderKey === y.orderKey) return 0;
  if (x.orderKey === undefined) return 1;
  if (y.orderKey === undefined) return -1;
  return x.orderKey < y.orderKey ? -1 : 1;
}

function isDeadlock(error: unknown): boolean {
  // drizzle wraps the driver's error as its cause.
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code === DEADLOCK || cause?.code === DEADLOCK;
}
