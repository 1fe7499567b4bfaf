import type Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.ts';
import { openDatabaseFile } from './open-database-file.ts';
import { recordFirstStart } from './first-start.ts';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };
/** A transaction handle or the database itself: both can run the queries in this folder. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

/** One better-sqlite3 connection with its drizzle handle: what the SQLite store is built on. */
export interface SqliteConnection {
  db: Db;
  sqlite: Database.Database;
  path: string;
  close(): void;
}

// From src/store (tsx) or dist/src/store (compiled): the first drizzle/ folder above this file.
const MIGRATIONS_FOLDER = ['../../drizzle', '../../../drizzle']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((folder) => existsSync(`${folder}/meta/_journal.json`)) ?? fileURLToPath(new URL('../../drizzle', import.meta.url));

export function openSqlite(settings: { sqlitePath: string; migrate?: boolean }): SqliteConnection {
  const sqlite = openDatabaseFile(settings.sqlitePath);
  // WAL lets the HTTP intake write while the worker reads; synchronous=FULL makes every commit
  // durable across power loss, which the 2xx we send to Avara promises.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  // better-sqlite3 is synchronous: a busy wait blocks the event loop, so keep it short. Our own
  // write transactions last milliseconds; a lock held longer than this is someone else's problem
  // and intake answers 503 + Retry-After rather than freezing.
  sqlite.pragma('busy_timeout = 2000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema });
  if (settings.migrate !== false) {
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    // The poller's cutoff (POLL_SINCE): recorded by the first open that may write the schema.
    recordFirstStart(db, Date.now());
  }
  return {
    db,
    sqlite,
    path: settings.sqlitePath,
    close() {
      if (sqlite.open) sqlite.close();
    },
  };
}

/** True when every migration shipped in drizzle/ has been applied (for /readyz). */
export function isMigrated(store: SqliteConnection): boolean {
  try {
    const row = store.sqlite.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
    return row.n >= countShippedMigrations();
  } catch {
    return false;
  }
}

let shippedMigrations: number | undefined;
function countShippedMigrations(): number {
  // Read once: the journal is tiny and does not change while the process runs.
  shippedMigrations ??= (JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as { entries: unknown[] })
    .entries.length;
  return shippedMigrations;
}
