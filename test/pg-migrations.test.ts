import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countShippedPgMigrations, isPgMigrated, openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { createTestDatabase, TEST_SERVER_URL, type TestDatabase } from './support/pg-test-database.ts';

describe('opening the PostgreSQL store', () => {
  let database: TestDatabase;
  const opened: PgStore[] = [];
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await database.drop();
  });
  const open = async (migrate = true) => {
    const store = await openPgStore({ databaseUrl: database.url, migrate });
    opened.push(store);
    return store;
  };

  it('two replicas starting together on a fresh database: both open, the migrations are applied once', async () => {
    const [first, second] = await Promise.all([open(), open()]);
    expect(await isPgMigrated(first!)).toBe(true);
    expect(await isPgMigrated(second!)).toBe(true);
    const { rows } = await first!.pool.query<{ n: string; hashes: string }>('select count(*) as n, count(distinct hash) as hashes from drizzle.__drizzle_migrations');
    expect(rows[0]).toEqual({ n: String(countShippedPgMigrations()), hashes: String(countShippedPgMigrations()) });
    // A third start later finds nothing to do.
    await open();
    expect((await first!.pool.query('select count(*)::int as n from drizzle.__drizzle_migrations')).rows[0]).toEqual({ n: countShippedPgMigrations() });
  });

  it('isMigrated is false on a database nobody has migrated, true once one has', async () => {
    const unmigrated = await open(false);
    expect(await isPgMigrated(unmigrated)).toBe(false);
    await open();
    expect(await isPgMigrated(unmigrated)).toBe(true);
  });

  it('the audit table refuses UPDATE, DELETE and TRUNCATE', async () => {
    const store = await open();
    await store.pool.query(`insert into audit_events (seq, at, event, prev_hash, hash) values (1, 1, 'received', 'p', 'h')`);
    for (const statement of ['update audit_events set event = $$x$$', 'delete from audit_events', 'truncate audit_events']) {
      await expect(store.pool.query(statement), statement).rejects.toThrow(/audit_events is append-only/);
    }
    expect((await store.pool.query('select count(*)::int as n from audit_events')).rows[0]).toEqual({ n: 1 });
  });

  it('a database that does not exist: openPgStore rejects naming it, and leaves no connection behind', async () => {
    const url = new URL(TEST_SERVER_URL);
    url.pathname = `/${database.name}_missing`;
    await expect(openPgStore({ databaseUrl: url.toString() })).rejects.toThrow(`database "${database.name}_missing" does not exist`);
  });

  it('close ends the pool once, however often it is called', async () => {
    const store = await open();
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(store.pool.ended).toBe(true);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'avara-fhir-sync'`, [database.name]);
    await client.end();
    expect(rows[0]).toEqual({ n: 0 });
  });
});
