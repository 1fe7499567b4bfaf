import { and, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from './open-store.ts';
import { locks } from './schema.ts';

/**
 * Takes all of `keys` for `holder`, or none of them. A lock whose holder's lease has expired
 * is free. Works across processes sharing the database, unlike an in-memory mutex.
 */
export function tryAcquireLocks(db: Db, keys: string[], holder: string, expiresAt: number, now: number): boolean {
  return db.transaction(
    (tx) => {
      tx.delete(locks).where(and(inArray(locks.key, keys), lt(locks.expiresAt, now))).run();
      const held = tx.select({ key: locks.key, holder: locks.holder }).from(locks).where(inArray(locks.key, keys)).all();
      if (held.some((row) => row.holder !== holder)) return false;
      for (const key of keys) {
        tx.insert(locks).values({ key, holder, expiresAt }).onConflictDoUpdate({ target: locks.key, set: { expiresAt } }).run();
      }
      return true;
    },
    { behavior: 'immediate' },
  );
}

export function extendLocks(db: Db, holder: string, expiresAt: number): void {
  db.update(locks).set({ expiresAt }).where(eq(locks.holder, holder)).run();
}

export function releaseLocks(db: Db, holder: string): void {
  db.delete(locks).where(eq(locks.holder, holder)).run();
}
