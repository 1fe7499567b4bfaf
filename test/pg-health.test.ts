import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { MIN_POSTGRES_VERSION_NUM, probePgHealth, readPgServer } from '../src/store/pg/pg-health.ts';
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

  it('names the server version and whether it is supported', async () => {
    const server = await readPgServer(await open());
    expect(server.version).toMatch(/^\d+\.\d+/);
    expect(server.versionNum).toBeGreaterThanOrEqual(MIN_POSTGRES_VERSION_NUM);
    expect(server.supported).toBe(true);
  });
});
