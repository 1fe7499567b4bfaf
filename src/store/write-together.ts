import type { Db } from './open-store.ts';

/**
 * Runs several writes as one transaction. With synchronous=FULL every commit waits for an fsync
 * (1-5 ms on ordinary disks) during which better-sqlite3 blocks the event loop, so the writes
 * that belong to one step of a delivery share a commit. Nested store transactions become savepoints.
 */
export function writeTogether<T>(db: Db, writes: () => T): T {
  return db.transaction(() => writes(), { behavior: 'immediate' });
}

/**
 * Like writeTogether, but the commit does not wait for its fsync (WAL, synchronous=NORMAL for this
 * one commit). Visible to every connection at once and kept if the process crashes; only a power
 * cut before the next durable commit or checkpoint can undo it. Only for writes whose loss then is
 * harmless: a delivery's claim and its locks. After a power cut every attempt in flight is over
 * anyway, and the job is simply still queued. Every fsync spared is one the intake's commits do not
 * queue behind on the same disk.
 *
 * Inside an open transaction the writes just join it (and its durability).
 */
export function writeWithoutFsync<T>(db: Db, writes: () => T): T {
  const client = db.$client;
  if (client.inTransaction) return writes();
  // Not a cached statement: SQLite applies this pragma when compiling it, so re-running a
  // prepared one is not reliably applied again.
  client.exec('PRAGMA synchronous = NORMAL');
  try {
    return writeTogether(db, writes);
  } finally {
    client.exec('PRAGMA synchronous = FULL');
  }
}
