import { openStoreFromConfig } from '../../src/store/open-store-from-config.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase } from './pg-test-database.ts';

/**
 * A Store on a fresh PostgreSQL database of its own, opened through the factory as serve opens
 * it (DATABASE_URL set, SQLITE_PATH ignored); close() also drops the database.
 */
export async function openPgTestStore(): Promise<Store & { databaseUrl: string }> {
  const database = await createTestDatabase();
  try {
    const store = await openStoreFromConfig({ sqlitePath: '/nonexistent/ignored-when-database-url-is-set.db', databaseUrl: database.url });
    let closed: Promise<void> | undefined;
    return {
      ...store,
      databaseUrl: database.url,
      close: () => (closed ??= store.close().finally(() => database.drop())),
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}
