import { eq, lt, or, sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import { inTransaction, type PgTx } from './pg-transaction.ts';
import { locks } from './schema.ts';

// Per-study, per-patient and per-signer locks across replicas: lock rows with leases, as in
// SQLite, not advisory locks. A lock must die with its holder's *job lease*: a session advisory
// lock dies only with its connection, so a hung worker (connection alive, lease long expired)
// would keep the study locked from the replica that took its job over; and it would pin one pooled
// connection per running attempt for minutes. A row carries the lease's expiry, is extended with
// the lease, and is free the moment the lease lapses, whoever holds a connection.

/**
 * Takes all of `keys` for `holder`, or none of them (a savepoint, so it also works inside a
 * caller's transaction). Keys are taken in sorted order so two replicas asking for overlapping
 * keys queue behind each other instead of deadlocking.
 */
export function tryAcquireLocksPg(pool: Pool, keys: string[], holder: string, expiresAt: number, now: number): Promise<boolean> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return Promise.resolve(true);
  return inTransaction(pool, async (tx) => {
    await tx.client.query('SAVEPOINT take_locks');
    // A conflicting row is taken over only if it is ours already or its holder's lease has lapsed;
    // a concurrent taker of the same key waits for our commit and then sees our row.
    const taken = await tx.db.insert(locks)
      .values(sorted.map((key) => ({ key, holder, expiresAt })))
      .onConflictDoUpdate({
        target: locks.key,
        set: { holder: sql`excluded.holder`, expiresAt: sql`excluded.expires_at` },
        setWhere: or(eq(locks.holder, holder), lt(locks.expiresAt, now)),
      })
      .returning({ key: locks.key });
    if (taken.length === sorted.length) {
      await tx.client.query('RELEASE SAVEPOINT take_locks');
      return true;
    }
    await tx.client.query('ROLLBACK TO SAVEPOINT take_locks');
    return false;
    // Lost in a server crash, the attempt holding them is over anyway (as SQLite's, no fsync).
  }, { durable: false });
}

export async function extendLocksPg(tx: PgTx, holder: string, expiresAt: number): Promise<void> {
  await tx.db.update(locks).set({ expiresAt }).where(eq(locks.holder, holder));
}

export function releaseLocksPg(pool: Pool, holder: string): Promise<void> {
  return inTransaction(pool, async (tx) => {
    await tx.db.delete(locks).where(eq(locks.holder, holder));
  });
}

/**
 * Runs the verb that ends an attempt and gives back every lock the attempt holds in the same
 * commit, whether or not its lease was still held (the locks are found by its token, so only
 * its own). For a store interface whose ending verbs release the locks themselves.
 */
export function givingBackLocksPg<T>(pool: Pool, holder: string, end: () => Promise<T>): Promise<T> {
  return inTransaction(pool, async (tx) => {
    const outcome = await end();
    await tx.db.delete(locks).where(eq(locks.holder, holder));
    return outcome;
  });
}
