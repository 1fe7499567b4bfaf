import { withoutPassword } from './database-url.ts';
import type { DatabaseServerFacts } from './pg/pg-server-facts.ts';
import type { Store } from './store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

export interface StoreSettings {
  sqlitePath: string;
  /** PostgreSQL (design.md "Several replicas"): when set, SQLITE_PATH is ignored. */
  databaseUrl?: string;
}

export interface OpenStoreOptions {
  /** false: open without applying migrations (doctor, and the delivery thread: serve migrated). */
  migrate?: boolean;
}

/**
 * The one place that picks the database: serve, the CLI commands, the delivery thread, the
 * demo and the tests all open their store here.
 */
export async function openStoreFromConfig(settings: StoreSettings, options: OpenStoreOptions = {}): Promise<Store> {
  if (settings.databaseUrl !== undefined) {
    // Loaded only when asked for: a SQLite site never opens a PostgreSQL pool.
    const { openPostgresStore } = await import('./pg/pg-store.ts');
    return openPostgresStore({ databaseUrl: settings.databaseUrl, migrate: options.migrate ?? true });
  }
  return openSqliteStore({ sqlitePath: settings.sqlitePath, migrate: options.migrate ?? true });
}

/** Where the settings point, for messages: the SQLite path, or the PostgreSQL URL without its password. */
export function storeLocation(settings: StoreSettings): string {
  return settings.databaseUrl === undefined ? settings.sqlitePath : withoutPassword(settings.databaseUrl);
}

/** What doctor says about a PostgreSQL server (version, clock); undefined for SQLite. */
export async function describeDatabaseServer(settings: StoreSettings): Promise<DatabaseServerFacts | undefined> {
  if (settings.databaseUrl === undefined) return undefined;
  const { readPgServerFacts } = await import('./pg/pg-server-facts.ts');
  return readPgServerFacts(settings.databaseUrl);
}
