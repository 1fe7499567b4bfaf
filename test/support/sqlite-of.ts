import type { SqliteConnection } from '../../src/store/open-store.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

/** The SQLite connection under an app's store, for tests of SQLite specifics (faults on the file, raw reads). */
export function sqliteOf(app: { store: Store }): SqliteConnection {
  const { connection } = app.store as Partial<SqliteStore>;
  if (!connection) throw new Error('this test needs the SQLite store');
  return connection;
}
