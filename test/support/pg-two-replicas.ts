import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openPgStore, type PgStore } from '../../src/store/pg/open-pg-store.ts';
import { openPostgresStore, type PostgresStore } from '../../src/store/pg/pg-store.ts';
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

/**
 * Two replicas' Stores (each with its own pools) on one fresh, migrated database for the calling
 * file or block; closed and dropped after it. Nothing is emptied between tests.
 */
export function twoPostgresStores(opened: (replicas: { a: PostgresStore; b: PostgresStore }) => void): void {
  let database: TestDatabase | undefined;
  let stores: PostgresStore[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    stores = [await openPostgresStore({ databaseUrl: database.url }), await openPostgresStore({ databaseUrl: database.url })];
    opened({ a: stores[0]!, b: stores[1]! });
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await database?.drop();
  });
}
