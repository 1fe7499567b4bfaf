import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The SQLite connection at `path` (its directory created), with the file's header read now: a
 * path that cannot be created, cannot be opened, or is not a database fails here with a message
 * naming SQLITE_PATH and the path, instead of a bare "file is not a database" from the first query.
 */
export function openDatabaseFile(path: string): Database.Database {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sqlite = new Database(path);
    try {
      sqlite.pragma('schema_version');
    } catch (error) {
      sqlite.close();
      throw error;
    }
    return sqlite;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    const why = message ?? String(error);
    // Node's fs messages start with their code already ("ENOTDIR: not a directory, mkdir ...").
    const failure = new Error(`SQLITE_PATH: cannot open the database at ${path} (${code && !why.startsWith(code) ? `${code}: ${why}` : why})`, { cause: error });
    // Kept for callers that name the cause by its code (doctor's database line).
    throw Object.assign(failure, { code });
  }
}
