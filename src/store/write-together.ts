import type { Db } from './open-store.ts';

/**
 * Runs several writes as one transaction. With synchronous=FULL every commit waits for an fsync
 * (1-5 ms on ordinary disks) during which better-sqlite3 blocks the event loop, so the writes
 * that belong to one step of a delivery share a commit. Nested store transactions become savepoints.
 */
export function writeTogether<T>(db: Db, writes: () => T): T {
  return db.transaction(() => writes(), { behavior: 'immediate' });
}
