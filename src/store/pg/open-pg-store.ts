import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { MIGRATION_LOCK } from './advisory-locks.ts';
import type { PgDb } from './pg-db.ts';
import * as schema from './schema.ts';

export interface PgStore {
  /** Transactions take their own connection from it (pg-transaction.ts). */
  pool: pg.Pool;
  /** Reads and single statements outside a transaction. */
  db: PgDb;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface PgStoreSettings {
  databaseUrl: string;
  migrate?: boolean;
  /** Connections per process; the default suits a worker's concurrency plus intake. */
  poolSize?: number;
  /** An idle connection's error (the server restarted): the next query fails and says so. */
  onIdleError?: (error: Error) => void;
  /** How long a new connection (or a wait for a free one) may take; a test seam. */
  connectTimeoutMs?: number;
}

// A server that accepts TCP but never answers (frozen, or its host partitioned after the
// handshake) would otherwise hold every new connection until the OS gives up, minutes later: the
// worker and poller would wait that long instead of failing and trying again. Keepalive lets the
// OS notice a connection whose host is gone while it sits in the pool.
const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_DELAY_MS = 10_000;

// From src/store/pg (tsx) or dist/src/store/pg (compiled): the first drizzle/pg above this file.
const MIGRATIONS_FOLDER = ['../../../drizzle/pg', '../../../../drizzle/pg']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((folder) => existsSync(`${folder}/meta/_journal.json`)) ?? fileURLToPath(new URL('../../../drizzle/pg', import.meta.url));

export async function openPgStore(settings: PgStoreSettings): Promise<PgStore> {
  const pool = new pg.Pool({
    connectionString: settings.databaseUrl,
    max: settings.poolSize ?? 10,
    application_name: 'avara-fhir-sync',
    connectionTimeoutMillis: settings.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  });
  // Without a listener an idle connection's error would be an uncaught 'error' event.
  pool.on('error', (error) => settings.onIdleError?.(error));
  try {
    if (settings.migrate !== false) await migratePg(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    pool,
    db: drizzle({ client: pool, schema }),
    databaseUrl: settings.databaseUrl,
    close: () => (closed ??= pool.end()),
  };
}

/**
 * Applies the shipped migrations under a session advisory lock: replicas starting together take
 * turns, and the second finds everything applied. The lock is released with its connection
 * should the process die mid-migration; each migration file commits as one transaction.
 */
export async function migratePg(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => void (broken ??= error);
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]).catch((error: Error) => (broken = error));
    }
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** True when every migration shipped in drizzle/pg has been applied (for /readyz). */
export async function isPgMigrated(store: PgStore): Promise<boolean> {
  try {
    const result = await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
    return Number(result.rows[0]?.n) >= countShippedPgMigrations();
  } catch {
    return false;
  }
}

let shippedMigrations: number | undefined;
export function countShippedPgMigrations(): number {
  shippedMigrations ??= (JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] }).entries.length;
  return shippedMigrations;
}
