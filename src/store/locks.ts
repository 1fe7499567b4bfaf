import { and, eq, sql } from 'drizzle-orm';
import { placeholdersFor, preparedOnce, setPlaceholder } from './prepared-statements.ts';
import type { Db } from './open-store.ts';
import { locks } from './schema.ts';

/**
 * Takes all of `keys` for `holder`, or none of them. A lock whose holder's lease has expired
 * is free. Works across processes sharing the database, unlike an in-memory mutex.
 */
export function tryAcquireLocks(db: Db, keys: string[], holder: string, expiresAt: number, now: number): boolean {
  return db.transaction(
    (tx) => {
      // Key by key: a handful per call, and one prepared statement each instead of SQL built per call.
      const held = preparedOnce(tx, 'locks.held', (db) => db.select({ holder: locks.holder, expiresAt: locks.expiresAt }).from(locks).where(eq(locks.key, sql.placeholder('key'))).prepare());
      const take = preparedOnce(tx, 'locks.take', (db) =>
        db.insert(locks).values(placeholdersFor(['key', 'holder', 'expiresAt'] as const)).onConflictDoUpdate({ target: locks.key, set: { holder: setPlaceholder('holder'), expiresAt: setPlaceholder('expiresAt') } }).prepare(),
      );
      // A lock whose holder's lease has lapsed is free.
      if (keys.some((key) => {
        const row = held.get({ key });
        return row !== undefined && row.holder !== holder && row.expiresAt >= now;
      })) return false;
      for (const key of keys) take.run({ key, holder, expiresAt });
      return true;
    },
    { behavior: 'immediate' },
  );
}

export function extendLocks(db: Db, holder: string, expiresAt: number): void {
  db.update(locks).set({ expiresAt }).where(eq(locks.holder, holder)).run();
}

export function releaseLocks(db: Db, holder: string): void {
  preparedOnce(db, 'locks.release', (db) => db.delete(locks).where(eq(locks.holder, sql.placeholder('holder'))).prepare()).run({ holder });
}

/** Who holds `key` and until when, or undefined when nobody does. */
export function readLock(db: Db, key: string): { holder: string; expiresAt: number } | undefined {
  return db.select({ holder: locks.holder, expiresAt: locks.expiresAt }).from(locks).where(eq(locks.key, key)).get();
}

/**
 * Hands `key` from `from` to `to` only while `from` still holds it: of two processes taking over
 * one dead holder's lock at once, exactly one succeeds.
 */
export function takeOverLock(db: Db, key: string, from: string, to: string, expiresAt: number): boolean {
  return db.update(locks).set({ holder: to, expiresAt }).where(and(eq(locks.key, key), eq(locks.holder, from))).run().changes === 1;
}
