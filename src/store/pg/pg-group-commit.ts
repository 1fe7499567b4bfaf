import type { Pool } from 'pg';
import { inTransaction, transactionOfEach, type Settled } from './pg-transaction.ts';

// Group commit for writes that arrive together (webhooks on concurrent connections), as SQLite's
// group-commit.ts. On PostgreSQL it matters for another reason: every transaction that writes
// audit rows holds the chain's lock through its COMMIT (pg-audit.ts), so durable commits that
// each wait for their WAL flush go one flush at a time; committed together they share it. While
// one group appends and commits, the next writes (up to `maxInFlight` groups on their own
// connections; the chain's lock orders their appends). Nobody is answered before the commit
// holding their write.

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

export function createPgGroupCommit(pool: Pool, options: { maxGroup?: number; maxInFlight?: number } = {}): PgGroupCommit {
  const maxGroup = options.maxGroup ?? 64;
  const maxInFlight = options.maxInFlight ?? 4;
  let waiting: Waiting[] = [];
  // A group is writing from its start until its last write has run; then it appends to the audit
  // chain and commits, which other groups' commits wait for (the chain's lock, held to COMMIT).
  // Groups that all stood in one line (BEGIN, writes, chain, COMMIT, then the next BEGIN) left
  // the line's round trips in every webhook's answer: the next group writes while this one
  // commits. One writes at a time, so a group still gathers what arrived meanwhile.
  let writing = false;
  let inFlight = 0;
  let scheduled = false;

  function pump(): void {
    if (scheduled || writing || inFlight >= maxInFlight || waiting.length === 0) return;
    scheduled = true;
    // After the event loop has read what else has arrived.
    setImmediate(() => {
      scheduled = false;
      if (writing || inFlight >= maxInFlight || waiting.length === 0) return;
      void runGroup();
    });
  }

  async function runGroup(): Promise<void> {
    const group = waiting.slice(0, maxGroup).sort(byOrderKey);
    waiting = waiting.slice(maxGroup);
    writing = true;
    inFlight += 1;
    // This group's own turn: once it has ended, `writing` may be the next group's, which this
    // group's `finally` must not end for it (a third group would then write beside the second).
    let ownTurn = true;
    const written = () => {
      if (!ownTurn) return;
      ownTurn = false;
      writing = false;
      pump();
    };
    let outcomes;
    try {
      outcomes = await commitGroup(pool, group.map((item) => item.write), written);
    } catch (error) {
      // Nothing of the group was committed.
      for (const item of group) item.reject(error);
      return;
    } finally {
      inFlight -= 1;
      written();
      pump();
    }
    group.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) item.resolve(outcome.value);
      else if (isDeadlock(outcome.error) && item.retries++ < MAX_RETRIES) waiting.push(item);
      else item.reject(outcome.error);
    });
    pump();
  }

  return {
    run<T>(write: () => Promise<T>, orderKey?: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ write, resolve: resolve as (value: unknown) => void, reject, retries: 0, orderKey });
        pump();
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
async function commitGroup(pool: Pool, writes: (() => Promise<unknown>)[], written: () => void): Promise<Settled[]> {
  const settle = (work: () => Promise<unknown>) => inTransaction(pool, work).then((value): Settled => ({ ok: true, value }), (error: unknown): Settled => ({ ok: false, error }));
  const together = await settle(async () => {
    const values: unknown[] = [];
    for (const write of writes) values.push(await write());
    written();
    return values;
  });
  if (together.ok) return (together.value as unknown[]).map((value): Settled => ({ ok: true, value }));
  // Alone in its group, a write that failed has its answer: no need to run it again.
  if (writes.length === 1) return [together];
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
