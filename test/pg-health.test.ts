import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { probePgHealth } from '../src/store/pg/pg-health.ts';
import { readPgServerFacts } from '../src/store/pg/pg-server-facts.ts';
import { createTestDatabase, type TestDatabase } from './support/pg-test-database.ts';

describe('PostgreSQL health for readyz and doctor', () => {
  let database: TestDatabase;
  const opened: PgStore[] = [];
  const open = async (migrate = true) => {
    const store = await openPgStore({ databaseUrl: database.url, migrate });
    opened.push(store);
    return store;
  };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await database?.drop();
  });

  it('unmigrated: not probed; migrated: writable, and the probe leaves nothing behind; closed: closed', async () => {
    const unmigrated = await open(false);
    expect(await probePgHealth(unmigrated)).toEqual({ migrated: false, writable: 'unknown' });
    const store = await open();
    expect(await probePgHealth(store)).toEqual({ migrated: true, writable: 'writable' });
    expect((await store.pool.query('select count(*)::int as n from settings')).rows[0]).toEqual({ n: 0 });
    await unmigrated.close();
    expect(await probePgHealth(unmigrated)).toEqual({ migrated: false, writable: 'closed' });
  });

  it('a database that only reads (a standby, default_transaction_read_only): not_writable', async () => {
    await open();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE "${database.name}" SET default_transaction_read_only = on`);
    await admin.end();
    try {
      expect(await probePgHealth(await open(false))).toEqual({ migrated: true, writable: 'not_writable' });
    } finally {
      const undo = new pg.Client({ connectionString: database.url, options: '-c default_transaction_read_only=off' });
      await undo.connect();
      await undo.query(`ALTER DATABASE "${database.name}" RESET default_transaction_read_only`);
      await undo.end();
    }
  });

  it('names the server version, whether it is supported, and how far our clock is from its own', async () => {
    const server = await readPgServerFacts(database.url);
    expect(server.version).toMatch(/^\d+\.\d+/);
    expect(server.supported).toBe(true);
    // The same machine's clock: apart by no more than the round trip could blur.
    expect(Math.abs(server.clockAheadMs)).toBeLessThanOrEqual(server.roundTripMs / 2 + 50);
    // A clock read 60 s late is found 60 s behind.
    const late = await readPgServerFacts(database.url, () => Date.now() - 60_000);
    expect(late.clockAheadMs).toBeLessThan(-59_000);
  });
});
