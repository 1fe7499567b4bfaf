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
    // The PostgreSQL store plugs in here (issue 19, step C).
    throw new Error('DATABASE_URL is set, but this build has no PostgreSQL store yet; unset it to use SQLITE_PATH');
  }
  return openSqliteStore({ sqlitePath: settings.sqlitePath, migrate: options.migrate ?? true });
}
