import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the PostgreSQL stage uses (development and CI machines: 127.0.0.1:5432, trust
 * auth, database `test` to connect to); BENCH_DATABASE_URL points elsewhere. The bench only ever
 * writes to databases it created, and drops them.
 */
export const BENCH_SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  name: string;
  url: string;
  /** Drops it, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** A fresh, empty database of this run's own (`afs_bench_<pid>_<random>`). */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `afs_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(BENCH_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs `measure` on a fresh database, dropped afterwards whatever happens. */
export async function withBenchDatabase<T>(measure: (database: BenchDatabase) => Promise<T>): Promise<T> {
  const database = await createBenchDatabase();
  try {
    return await measure(database);
  } finally {
    await database.drop();
  }
}

/** The server's own description, for the output: version, where it listens, commit durability. */
export async function describePgServer(): Promise<{ version: string; host: string; synchronousCommit: string }> {
  return onServer(async (client) => {
    const setting = async (name: string) => (await client.query<{ v: string }>(`SELECT current_setting('${name}') AS v`)).rows[0]!.v;
    return { version: await setting('server_version'), host: new URL(BENCH_SERVER_URL).host, synchronousCommit: await setting('synchronous_commit') };
  });
}

export async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
