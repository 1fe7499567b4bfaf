import type { SqliteConnection } from './open-store.ts';

export type WritableVerdict = 'writable' | 'not_writable' | 'closed';

/**
 * Takes the write lock and makes a no-op write, then rolls back: proves the file, its directory
 * (WAL) and the connection accept writes. A lock held by another writer still means writable;
 * the short busy timeout keeps a readiness probe from blocking the event loop for long.
 */
export function probeWritable(store: SqliteConnection): WritableVerdict {
  const { sqlite } = store;
  if (!sqlite.open) return 'closed';
  const busyTimeout = sqlite.pragma('busy_timeout', { simple: true }) as number;
  sqlite.pragma('busy_timeout = 200');
  try {
    sqlite.exec('BEGIN IMMEDIATE');
    try {
      // Rewriting user_version with its own value needs no table, so a fresh file can be probed too.
      const version = sqlite.pragma('user_version', { simple: true }) as number;
      sqlite.pragma(`user_version = ${version}`);
    } finally {
      sqlite.exec('ROLLBACK');
    }
    return 'writable';
  } catch (error) {
    return (error as { code?: string }).code === 'SQLITE_BUSY' ? 'writable' : 'not_writable';
  } finally {
    sqlite.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
