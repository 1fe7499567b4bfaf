import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openPgStore, type PgStore } from '../../src/store/pg/open-pg-store.ts';
import { createTestDatabase, emptyTestDatabase, type TestDatabase } from './pg-test-database.ts';

export interface TwoPgReplicas {
  database: TestDatabase;
  a: PgStore;
  b: PgStore;
}

/**
 * Two "replicas" for the tests of the calling describe block: two stores, each with its own pool,
 * on one fresh database. The database is created and migrated once for the block and emptied
 * before each test (a database per test costs a migration each); closed and dropped after the
 * block. `opened` receives the stores once they are open, before the first test.
 */
export function twoPgReplicasPerBlock(opened: (replicas: TwoPgReplicas) => void): void {
  let replicas: Partial<TwoPgReplicas> = {};
  beforeAll(async () => {
    const database = await createTestDatabase();
    replicas = { database };
    replicas.a = await openPgStore({ databaseUrl: database.url });
    replicas.b = await openPgStore({ databaseUrl: database.url });
    opened(replicas as TwoPgReplicas);
  });
  beforeEach(() => emptyTestDatabase(replicas.database!.url));
  afterAll(async () => {
    await replicas.a?.close();
    await replicas.b?.close();
    await replicas.database?.drop();
  });
}

/** How many rows a table holds. */
export async function countRows(store: PgStore, table: PgTable): Promise<number> {
  return (await store.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(table))[0]!.n;
}
