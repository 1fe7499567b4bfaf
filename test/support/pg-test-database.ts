import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL every test may use (CI and development machines: 127.0.0.1:5432, trust auth);
 * TEST_DATABASE_URL points elsewhere. Tests never touch its own database, only ones they create.
 */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops it, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** A fresh, empty database of this test run's own (`afs_test_<pid>_<random>`). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `afs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Empties every table of a migrated test database between tests (faster than a database each).
 * The audit table refuses TRUNCATE by trigger; a superuser's replica role skips triggers, for
 * this session only.
 */
export async function emptyTestDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    const { rows } = await client.query<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public'`);
    await client.query(`TRUNCATE ${rows.map((row) => `"${row.tablename}"`).join(', ')}`);
  } finally {
    await client.end();
  }
}
